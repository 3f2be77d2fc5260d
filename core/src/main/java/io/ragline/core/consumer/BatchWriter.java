package io.ragline.core.consumer;

import java.sql.Connection;
import java.util.List;

/**
 * Applies a batch of decoded records in the caller's transaction ({@code connection} has
 * auto-commit off; the caller commits or rolls back). Throws {@link PoisonRecordException} naming
 * the record when one record's content is refused; any other exception is classified by the
 * {@link FailurePolicy}. Must not commit, roll back or close the connection.
 */
@FunctionalInterface
public interface BatchWriter<T> {
    void write(List<InboundRecord<T>> records, Connection connection) throws Exception;
}
