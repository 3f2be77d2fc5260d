package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.testkit.PostgresSchema;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * V15 gives the chunks stored before it the SHA-256 of their text, the very hash the
 * ingest-worker computes for a chunk it cuts again, so their vectors are kept on the next update.
 */
class ChunkTextHashUpgradeIT {
    @RegisterExtension
    static final PostgresSchema db = PostgresSchema.unmigrated();

    @Test
    void chunksStoredBeforeTheUpgradeGetTheHashOfTheirTextAsUtf8() throws Exception {
        Migrations migrations =
                new Migrations(DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), "upgrade-it");
        assertThat(migrations.migrate("14").version()).isEqualTo("14");
        String text = "Café au lait\nüber 東京";
        db.execute("insert into documents (collection_id, external_id, title, status, version) values"
                + " (1, 'd', 'D', 'embedded', 1)");
        try (Connection c = db.connect();
                var s = c.prepareStatement("insert into chunks (document_id, collection_id, document_version, seq,"
                        + " content, token_count) select id, 1, 1, 0, ?, 5 from documents")) {
            s.setString(1, text);
            s.executeUpdate();
        }

        assertThat(migrations.migrate().applied()).isPositive();

        try (Connection c = db.connect();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select text_hash from chunks")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBytes(1))
                    .isEqualTo(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        }
    }
}
