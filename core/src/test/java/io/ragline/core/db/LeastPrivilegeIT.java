package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The roles of grants.sql against a real server: a {@code ragline_worker} login does
 * the DML of the worker processes and no DDL; a {@code ragline_reader} login searches and never
 * writes. Migrated by the owner; {@link PostgresSchema#databaseUrl()} is a worker login.
 */
class LeastPrivilegeIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final String VECTOR = "array_fill(0.5, array[384])::vector";

    @BeforeAll
    static void aCollectionWithOneEmbeddedDocument() throws SQLException {
        db.execute("insert into collections (name) values ('docs')"); // its index: the owner's action
        document("d1");
    }

    /** A document of 'docs' with one chunk and its vector, written as {@code c}'s user. */
    static void document(String id, Statement s) throws SQLException {
        s.execute("insert into documents (collection_id, external_id, title, status) select id, '" + id + "', 'Title "
                + id + "', 'embedded' from collections where name = 'docs'");
        s.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                + " select id, collection_id, 0, 0, 'hello', 1 from documents where external_id = '" + id + "'");
        s.execute("insert into chunk_embeddings (chunk_id, collection_id, embedding, model) select ch.id,"
                + " ch.collection_id, " + VECTOR + ", 'm' from chunks ch join documents d on d.id = ch.document_id"
                + " where d.external_id = '" + id + "'");
    }

    static void document(String id) throws SQLException {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            document(id, s);
        }
    }

    @Test
    void aWorkerLoginCannotCreateAlterDropOrTruncateATable() throws Exception {
        try (Connection c = connect(db.databaseUrl());
                Statement s = c.createStatement()) {
            assertRefused(s, "create table intruder (id int)");
            assertRefused(s, "alter table outbox add column intruder int");
            assertRefused(s, "drop table outbox");
            assertRefused(s, "truncate outbox");
            assertRefused(s, "create index intruder on documents (title)");
            // Creating a collection is the owner's action: refused whatever its index.
            assertRefusedToTheOwner(s, "insert into collections (name) values ('intruder')");
            assertRefusedToTheOwner(s, "insert into collections (name, index_type) values ('intruder', 'ivfflat')");
            // Deleting one cascades to its data and leaves its index behind: the owner's action too.
            assertRefused(s, "delete from collections where name = 'intruder'");
            // The migration history is the owner's: readable (is the schema current?), never written.
            s.executeQuery("select count(*) from " + Migrations.HISTORY_TABLE).close();
            assertRefused(s, "delete from " + Migrations.HISTORY_TABLE);
        }
    }

    @Test
    void aWorkerLoginCannotCreateACollectionOrStartAMigrationWhateverItsIndex() throws Exception {
        try (Connection c = connect(db.databaseUrl());
                Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("select set_config('ragline.index_after_load', 'on', true)");
            // With the index left for after the load the HNSW index's DDL does not refuse a worker:
            // collection_created_by_owner and collection_migrate's own check do, naming the rule.
            assertRefusedToTheOwner(s, "insert into collections (name) values ('intruder')");
            c.rollback();
            s.execute("select set_config('ragline.index_after_load', 'on', true)");
            assertRefusedToTheOwner(
                    s,
                    "select collection_migrate(id, 'onnx', 'bge-small-en-v1.5', 384, null, null) from collections"
                            + " where name = 'docs'");
            c.rollback();
            c.setAutoCommit(true);
            db.execute("insert into collections (name, index_type) values ('lists', 'ivfflat')");
            // An IVFFlat generation's index waits for its vectors: no DDL to refuse the worker either.
            assertRefusedToTheOwner(
                    s,
                    "select collection_migrate(id, 'onnx', 'bge-small-en-v1.5', 384, null, null) from collections"
                            + " where name = 'lists'");
        }
        assertThat(db.queryValue("select count(*) from collection_generations g join collections c on c.id ="
                        + " g.collection_id where c.name in ('docs', 'lists')"))
                .isEqualTo(2L);
        db.execute("delete from collections where name = 'lists'");
    }

    @Test
    void aWorkerLoginDoesTheWorkOfTheWorkerProcesses() throws Exception {
        try (Connection c = connect(db.databaseUrl());
                Statement s = c.createStatement()) {
            document("d2", s); // ingest and embedding: documents, chunks, vectors
            s.execute("select id from collections where name = 'docs' for key share");
            s.execute("update documents set status = 'chunked' where external_id = 'd2'");
            s.execute("select request_embeddings('docs')"); // the bulk path of the outbox
            s.execute("delete from chunks where document_id = (select id from documents where external_id = 'd2')");
            s.execute("insert into consumer_offsets (group_id, topic, partition, next_offset) values ('g', 't', 0, 1)");
            s.execute("select run_training_schedules()");
            s.execute("select pg_advisory_xact_lock(hashtext('ragline.models'), hashtext('p'))");
            s.execute("listen ragline_test");
            s.execute("select pg_notify('ragline_test', 'x')");
            s.execute("delete from outbox");
            assertThat(count(s, "select count(*) from search_documents(" + VECTOR + ", 5, 'docs')"))
                    .isEqualTo(1);
        }
    }

    @Test
    void aReaderLoginSearchesAndReadsButCannotWrite() throws Exception {
        try (Connection c = connect(PostgresSchema.newLogin(SchemaAccess.READER_ROLE));
                Statement s = c.createStatement()) {
            assertThat(count(s, "select count(*) from search_documents(" + VECTOR + ", 5, 'docs')"))
                    .isEqualTo(1);
            assertThat(count(s, "select count(*) from documents")).isPositive();
            assertThat(count(s, "select count(*) from collections where collection_index_built(id)"))
                    .as("whether a collection is indexed, as collections list|show ask it")
                    .isPositive();
            assertRefused(s, "insert into outbox (topic, key, payload) values ('t', 'k', '{}')");
            assertRefused(s, "update documents set title = 'changed'");
            assertRefused(s, "delete from chunk_embeddings");
            assertRefused(s, "select request_embeddings('docs')"); // EXECUTE on the search function only
            assertRefused(s, "create table intruder (id int)");
        }
    }

    @Test
    void aTableTheOwnerAddsLaterIsGrantedToTheWorkerAsItIsCreated() throws Exception {
        db.execute("create table added_later (id int)");
        try (Connection c = connect(db.databaseUrl());
                Statement s = c.createStatement()) {
            s.execute("insert into added_later values (1)");
        }
    }

    @Test
    void aFunctionTheOwnerCreatesByHandIsClosedToEveryoneButTheWorkerByTheNextMigrate() throws Exception {
        db.execute("create function made_by_hand() returns int language sql as 'select 1'");
        new OwnerMigration().migrate(db.ownerDatabaseUrl(), db.schema());
        try (Connection c = connect(PostgresSchema.newLogin(SchemaAccess.READER_ROLE));
                Statement s = c.createStatement()) {
            assertRefused(s, "select made_by_hand()");
        }
        try (Connection c = connect(db.databaseUrl());
                Statement s = c.createStatement()) {
            assertThat(count(s, "select made_by_hand()")).isEqualTo(1);
        }
    }

    @Test
    void aWorkerCannotMakeTheOwnersCronFunctionRunATemporaryObject() throws Exception {
        // A login of its own: were the attack to succeed, no other test's worker would be a superuser.
        try (Connection c = connect(PostgresSchema.newLogin(SchemaAccess.WORKER_ROLE));
                Statement s = c.createStatement()) {
            s.execute("create function pg_temp.escalate() returns name language plpgsql as $$ begin"
                    + " execute format('alter role %I superuser', session_user); return 'pg_cron'; end $$");
            // pg_temp comes first for relations unless the function's search path names it.
            s.execute("create temp view pg_extension as select pg_temp.escalate() as extname");
            s.execute("select pg_cron_runs_training_schedules()");

            assertThat(count(s, "select count(*) from pg_catalog.pg_roles where rolname = session_user and rolsuper"))
                    .isZero();
        }
    }

    @Test
    void aCronJobCountsOnlyWhenItRunsThisSchemasScheduler() throws Exception {
        db.assumePgCron();
        String schema = db.schema();
        assertThat(runsWithJob("select staging_" + schema + ".run_training_schedules()"))
                .isFalse();
        // '_' is no wildcard: t_x names another schema than tXx.
        assertThat(runsWithJob("select " + schema.replaceFirst("_", "x") + ".run_training_schedules()"))
                .isFalse();
        assertThat(runsWithJob("select " + schema + ".run_training_schedules_v2()"))
                .isFalse();
        assertThat(runsWithJob("select " + schema + ".run_training_schedules()"))
                .isTrue();
        assertThat(runsWithJob("SELECT \"" + schema + "\".run_training_schedules();"))
                .isTrue();
    }

    /** Whether, with one (yearly) pg_cron job running {@code command}, a worker sees pg_cron run the schedules. */
    private static boolean runsWithJob(String command) throws SQLException {
        long job = ((Number) db.queryValue("select cron.schedule('ragline-it-" + db.schema() + "', '0 0 1 1 *', '"
                        + command.replace("'", "''") + "')"))
                .longValue();
        try (Connection c = connect(db.databaseUrl());
                Statement s = c.createStatement();
                var rs = s.executeQuery("select pg_cron_runs_training_schedules()")) {
            rs.next();
            return rs.getBoolean(1);
        } finally {
            db.queryValue("select cron.unschedule(" + job + ")");
        }
    }

    @Test
    void aLoginWithoutARoleCannotEvenSeeTheSchema() throws Exception {
        try (Connection c = connect(PostgresSchema.newLogin());
                Statement s = c.createStatement()) {
            assertRefused(s, "select count(*) from " + db.schema() + ".documents");
            assertRefused(s, "select " + db.schema() + ".request_embeddings('docs')");
        }
    }

    private static long count(Statement s, String sql) throws SQLException {
        try (var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Refused as {@link #assertRefused} is, by V37's rule itself, which names the owner. */
    private static void assertRefusedToTheOwner(Statement s, String sql) {
        assertThatThrownBy(() -> s.execute(sql)).as(sql).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("42501");
            assertThat(e.getMessage()).contains("only the owner of chunk_embeddings may");
        });
    }

    private static void assertRefused(Statement s, String sql) {
        assertThatThrownBy(() -> s.execute(sql))
                .as(sql)
                .isInstanceOfSatisfying(
                        SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
    }

    static Connection connect(String libpqUrl) throws SQLException {
        return Database.connect(
                DatabaseUrl.parse(libpqUrl).url().orElseThrow(), db.schema(), "it", Duration.ofSeconds(10));
    }
}
