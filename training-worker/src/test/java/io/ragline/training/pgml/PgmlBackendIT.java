package io.ragline.training.pgml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import io.ragline.training.TrainingWorker;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The pgml backend through the whole worker (Kafka request, job row, metrics, event) against a
 * stand-in of PostgresML (src/test/resources/pgml-standin.sql: the documented signatures of
 * pgml.train / pgml.tune / pgml.deploy, recording their arguments). No real PostgresML runs here:
 * this checks the SQL Ragline sends and what it reads back, not PostgresML itself. Also: without
 * PostgresML a job fails at once with a clear error; the statement timeout and a cancel stop a
 * long call.
 */
class PgmlBackendIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final ObjectMapper JSON = new ObjectMapper();
    static String prefix;
    static String pgml;
    static WorkerRuntime runtime;

    @BeforeAll
    static void start() throws Exception {
        prefix = "trpgml" + UUID.randomUUID().toString().substring(0, 8) + ".";
        pgml = "pgml_" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        env.put("RAGLINE_TRAINING_HEARTBEAT", "500ms");
        env.put("RAGLINE_TRAINING_STALE_AFTER", "5s");
        env.put("RAGLINE_TRAINING_CONCURRENCY", "4");
        env.put("RAGLINE_TRAINING_STATEMENT_TIMEOUT", "3s");
        env.put("RAGLINE_TRAINING_SCHEDULER", "off");
        env.put("RAGLINE_PGML_SCHEMA", pgml);
        Env e = new Env(env);
        var wiring = TrainingWorker.wiring(e);
        e.validate();
        runtime = WorkerRuntime.start("pgml-it", 0, e);
        wiring.accept(runtime);
        String sql;
        try (var in = PgmlBackendIT.class.getResourceAsStream("/pgml-standin.sql")) {
            sql = new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("__PGML__", pgml);
        }
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute(sql);
            s.execute("create table public." + pgml + "_houses (size int, price float8)");
            // What the DBA grants the worker role where PostgresML is installed (operations.md,
            // "Roles and least privilege"), and the training data it reads.
            s.execute("grant usage on schema " + pgml + " to ragline_worker");
            s.execute("grant execute on all functions in schema " + pgml + " to ragline_worker");
            s.execute("grant select, insert, update, delete on all tables in schema " + pgml + " to ragline_worker");
            s.execute("grant usage on all sequences in schema " + pgml + " to ragline_worker");
            s.execute("grant select on public." + pgml + "_houses to ragline_worker");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (runtime != null) {
            runtime.close();
        }
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("drop schema if exists " + pgml + " cascade");
            s.execute("drop table if exists public." + pgml + "_houses");
        }
    }

    static void send(String project, String body) throws Exception {
        try (KafkaProducer<String, String> p = KafkaTopics.producer()) {
            p.send(new ProducerRecord<>(prefix + "training", project, body)).get();
        }
    }

    static String finalStatus(String requestId) throws Exception {
        await().atMost(Duration.ofMinutes(1))
                .until(() -> db.queryValue("select status from training_jobs where request_id = '" + requestId
                                + "' and status in ('succeeded', 'failed', 'cancelled')")
                        != null);
        return (String) db.queryValue("select status from training_jobs where request_id = '" + requestId + "'");
    }

    static JsonNode lastCall(String fn) throws Exception {
        return JSON.readTree((String) db.queryValue(
                "select args::text from " + pgml + ".calls where fn = '" + fn + "' order by id desc limit 1"));
    }

    @Test
    void trainIsCalledWithTheDocumentedNamedArgumentsAndItsMetricsAreRecorded() throws Exception {
        send(
                "houses",
                "{\"request_id\":\"h-1\",\"project\":\"houses\",\"task\":\"regression\",\"backend\":\"pgml\","
                        + "\"data\":{\"relation\":\"public." + pgml + "_houses\",\"label_column\":\"price\"},"
                        + "\"algorithm\":\"xgboost\",\"hyperparameters\":{\"n_estimators\":25},\"test_size\":0.2,"
                        + "\"test_sampling\":\"last\",\"search\":{\"search\":\"grid\",\"search_params\":{\"max_depth\":[1,2]}}}");
        assertThat(finalStatus("h-1")).isEqualTo("succeeded");
        JsonNode args = lastCall("train");
        assertThat(args.path("project_name").asText()).isEqualTo("houses");
        assertThat(args.path("task").asText()).isEqualTo("regression");
        assertThat(args.path("relation_name").asText()).isEqualTo("public." + pgml + "_houses");
        assertThat(args.path("y_column_name").asText()).isEqualTo("price");
        assertThat(args.path("algorithm").asText()).isEqualTo("xgboost");
        assertThat(args.path("hyperparams").path("n_estimators").asInt()).isEqualTo(25);
        assertThat(args.path("search").asText()).isEqualTo("grid");
        assertThat(args.path("search_params").path("max_depth").toString()).isEqualTo("[1,2]");
        assertThat(args.path("test_size").asDouble()).isCloseTo(0.2, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(args.path("test_sampling").asText()).isEqualTo("last");
        assertThat(args.path("automatic_deploy").asBoolean()).isTrue();
        assertThat(db.queryValue("select value from model_metrics m join training_jobs j on j.id = m.job_id where"
                        + " j.request_id = 'h-1' and m.name = 'f1'"))
                .isEqualTo(0.9);
        // The search made two models; the job records the one PostgresML deployed (the better).
        assertThat(db.queryValue("select count(*) from " + pgml + ".models m join " + pgml + ".projects p on p.id ="
                        + " m.project_id where p.name = 'houses'"))
                .isEqualTo(2L);
        assertThat(db.queryValue("select pgml_model_id = (select model_id from " + pgml + ".deployments order by id"
                        + " desc limit 1) and pgml_model_id < (select max(m.id) from " + pgml + ".models m join " + pgml
                        + ".projects p on p.id = m.project_id where p.name = 'houses') and deployed"
                        + " from models where project = 'houses'"))
                .isEqualTo(true);
        assertThat((String) db.queryValue("select payload::text from outbox where payload->>'type' ="
                        + " 'training.succeeded' and key = 'houses'"))
                .contains("\"f1\": 0.9");
    }

    @Test
    void tuneFineTunesTheNamedModelAndAlwaysDeploysWhenAsked() throws Exception {
        send(
                "reviews",
                "{\"request_id\":\"t-1\",\"project\":\"reviews\",\"task\":\"text-classification\","
                        + "\"backend\":\"pgml\",\"data\":{\"relation\":\"public." + pgml
                        + "_houses\",\"label_column\":\"price\"},"
                        + "\"model_name\":\"distilbert-base-uncased\",\"hyperparameters\":{\"score\":0.5},\"deploy\":\"always\"}");
        assertThat(finalStatus("t-1")).isEqualTo("succeeded");
        JsonNode args = lastCall("tune");
        assertThat(args.path("model_name").asText()).isEqualTo("distilbert-base-uncased");
        assertThat(args.path("task").asText()).isEqualTo("text-classification");
        assertThat(args.path("automatic_deploy").asBoolean()).isFalse();
        assertThat(lastCall("deploy").path("strategy").asText()).isEqualTo("most_recent");
        assertThat(db.queryValue("select deployed from models where project = 'reviews'"))
                .isEqualTo(true);
    }

    @Test
    void aConversationTuneNamesTheViewOfConversationPairs() throws Exception {
        db.execute("insert into conversation_sessions (id) values ('support-1')");
        db.execute("insert into conversation_messages (session_id, id, role, content) values"
                + " ('support-1', 'm0', 'system', 'You fix printers.'), ('support-1', 'm1', 'user', 'Paper jam?'),"
                + " ('support-1', 'm2', 'assistant', 'Open the rear tray.')");
        send(
                "support-bot",
                "{\"request_id\":\"c-1\",\"project\":\"support-bot\",\"task\":\"conversation\",\"backend\":\"pgml\","
                        + "\"model_name\":\"meta-llama/Llama-3.2-1B-Instruct\",\"data\":{\"relation\":\""
                        + db.schema() + ".conversation_pairs\",\"label_column\":\"assistant_message\"},"
                        + "\"hyperparameters\":{\"dataset_args\":{\"system_column\":\"system\","
                        + "\"user_column\":\"user_message\",\"assistant_column\":\"assistant_message\"}}}");
        assertThat(finalStatus("c-1")).isEqualTo("succeeded");
        JsonNode args = lastCall("tune");
        assertThat(args.path("task").asText()).isEqualTo("conversation");
        assertThat(args.path("relation_name").asText()).isEqualTo(db.schema() + ".conversation_pairs");
        assertThat(args.path("y_column_name").asText()).isEqualTo("assistant_message");
        assertThat(args.path("hyperparams")
                        .path("dataset_args")
                        .path("user_column")
                        .asText())
                .isEqualTo("user_message");
        assertThat(db.queryValue("select system || ' | ' || user_message || ' | ' || assistant_message"
                        + " from conversation_pairs where session_id = 'support-1'"))
                .as("the view pgml.tune reads, in the columns the request names")
                .isEqualTo("You fix printers. | Paper jam? | Open the rear tray.");
    }

    @Test
    void aPgmlErrorFailsTheJobWithPostgresMLsMessage() throws Exception {
        send(
                "bad",
                "{\"request_id\":\"b-1\",\"project\":\"bad\",\"task\":\"classification\",\"backend\":\"pgml\","
                        + "\"data\":{\"relation\":\"no_such_table\",\"label_column\":\"y\"}}");
        assertThat(finalStatus("b-1")).isEqualTo("failed");
        assertThat((String) db.queryValue("select error from training_jobs where request_id = 'b-1'"))
                .contains(pgml + ".train failed")
                .contains("no_such_table");
    }

    @Test
    void theStatementTimeoutBoundsACallAndACancelStopsOne() throws Exception {
        send(
                "slow",
                "{\"request_id\":\"s-1\",\"project\":\"slow\",\"task\":\"classification\",\"backend\":\"pgml\","
                        + "\"data\":{\"relation\":\"public." + pgml + "_houses\",\"label_column\":\"price\"},"
                        + "\"hyperparameters\":{\"sleep_seconds\":30}}");
        assertThat(finalStatus("s-1")).isEqualTo("failed");
        assertThat((String) db.queryValue("select error from training_jobs where request_id = 's-1'"))
                .contains("exceeded statement_timeout PT3S");

        // Cancelling a running call: pg_cancel_backend on the job's own connection.
        send(
                "slow2",
                "{\"request_id\":\"s-2\",\"project\":\"slow2\",\"task\":\"classification\",\"backend\":\"pgml\","
                        + "\"data\":{\"relation\":\"public." + pgml + "_houses\",\"label_column\":\"price\"},"
                        + "\"hyperparameters\":{\"sleep_seconds\":2.8}}");
        await().atMost(Duration.ofSeconds(30))
                .until(() ->
                        "running".equals(db.queryValue("select status from training_jobs where request_id = 's-2'")));
        db.queryValue("select cancel_training_job(id) from training_jobs where request_id = 's-2'");
        assertThat(finalStatus("s-2")).isEqualTo("cancelled");
    }

    @Test
    void withoutPostgresMLAJobFailsAtOnceNamingTheDatabase() throws Exception {
        assertThat(db.queryValue("select count(*) from pg_extension where extname = 'pgml'"))
                .isEqualTo(0L);
        assertThat(db.queryValue("select count(*) from pg_namespace where nspname = 'pgml'"))
                .isEqualTo(0L);
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_TOPIC_PREFIX", prefix + "nopgml.");
        env.put("RAGLINE_TRAINING_SCHEDULER", "off");
        env.put("RAGLINE_TRAINING_PREDICT", "false");
        Env e = new Env(env); // RAGLINE_PGML_SCHEMA defaults to pgml, which does not exist here
        var wiring = TrainingWorker.wiring(e);
        e.validate();
        try (WorkerRuntime other = WorkerRuntime.start("pgml-missing-it", 0, e)) {
            wiring.accept(other);
            long started = System.nanoTime();
            try (KafkaProducer<String, String> p = KafkaTopics.producer()) {
                p.send(new ProducerRecord<>(
                                prefix + "nopgml.training",
                                "nopgml",
                                "{\"request_id\":\"n-1\","
                                        + "\"project\":\"nopgml\",\"task\":\"classification\",\"backend\":\"pgml\","
                                        + "\"data\":{\"relation\":\"t\",\"label_column\":\"y\"}}"))
                        .get();
            }
            assertThat(finalStatus("n-1")).isEqualTo("failed");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
            String database = (String) db.queryValue("select current_database()");
            assertThat((String) db.queryValue("select error from training_jobs where request_id = 'n-1'"))
                    .startsWith("PostgresML extension \"pgml\" is not installed in database \"" + database + "\"");
        }
    }
}
