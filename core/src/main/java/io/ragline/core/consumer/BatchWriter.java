package io.ragline.core.consumer;

import java.sql.Connection;
import java.util.List;

/**
 * Applies a batch of decoded records in the caller's transaction ({@code connection} has
 * auto-commit off; the caller commits or rolls back). Throws {@link PoisonRecordException} naming
 * the record when one record's content is refused; any other exception is classified by the
 * {@link FailurePolicy}. Must not commit, roll back or close the connection.
 *
 * <p>Slow work that needs no transaction (a remote call, a model's inference) belongs in
 * {@link #prepare}, which {@link PostgresBatchSink} calls before it takes a connection, so the
 * pool and the rows' locks are not held while it runs.
 */
@FunctionalInterface
public interface BatchWriter<T> {
    void write(List<InboundRecord<T>> records, Connection connection) throws Exception;

    /**
     * Does the part of a batch that needs no transaction, with no connection of the caller held,
     * and returns the writer that applies the prepared batch in the transaction. {@link
     * PostgresBatchSink} calls it first with every record of the batch, then, in the transaction,
     * calls {@code write} of the writer returned with the records not applied yet (a subset of
     * {@code records}, possibly none: then it is not called). It may read the database on a
     * connection of its own, returned before it ends; whatever it read may have changed by the
     * time {@code write} runs, which must check it again under its locks. It throws as {@code
     * write} does (the same {@link FailurePolicy} classifies it) and is called again when the
     * batch is retried. The default prepares nothing and returns this writer.
     */
    default BatchWriter<T> prepare(List<InboundRecord<T>> records) throws Exception {
        return this;
    }
}
