package io.ragline.training.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code request_training()} and {@code run_training_schedules()} (what pg_cron or the in-process
 * scheduler call) on real Postgres: a due schedule requests training through the outbox only when
 * enough new labelled documents exist, and is not due again until its interval passed.
 */
class SchedulesIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final String REQUEST = "{\"project\":\"weekly\",\"task\":\"classification\",\"backend\":\"builtin\","
            + "\"data\":{\"collection\":\"default\",\"label_path\":\"topic\"}}";

    static void sql(String statement) throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute(statement);
        }
    }

    @Test
    void aDueScheduleRequestsTrainingOnlyWithEnoughNewLabelledDocuments() throws Exception {
        sql("insert into training_schedules (name, request, every, min_new_labelled) values ('weekly', '" + REQUEST
                + "', interval '7 days', 3)");
        assertThat(db.queryValue("select run_training_schedules()")).isEqualTo(0);
        assertThat((String) db.queryValue("select last_result from training_schedules"))
                .isEqualTo("skipped: fewer than 3 new labelled documents");
        assertThat(db.queryValue("select count(*) from outbox where topic = 'training'"))
                .isEqualTo(0L);

        sql("insert into documents (collection_id, external_id, metadata, status, embedded_at) select 1, 'd' || i,"
                + " jsonb_build_object('topic', 't' || (i % 2)), 'embedded', now() from generate_series(1, 3) i");
        sql("update training_schedules set next_run_at = now()");
        assertThat(db.queryValue("select run_training_schedules()")).isEqualTo(1);
        assertThat((String) db.queryValue(
                        "select payload->>'request_id' from outbox where topic = 'training' and key =" + " 'weekly'"))
                .startsWith("scheduled:weekly:");
        assertThat(db.queryValue("select payload->>'backend' from outbox where topic = 'training'"))
                .isEqualTo("builtin");
        assertThat(db.queryValue("select next_run_at > now() + interval '6 days' from training_schedules"))
                .isEqualTo(true);
        assertThat(db.queryValue("select run_training_schedules()")).isEqualTo(0); // not due again
    }

    @Test
    void aScheduleThatCannotRequestTrainingDoesNotStopTheOthers() throws Exception {
        // A pgml request cannot count new labelled documents: request_training raises for it.
        sql("insert into training_schedules (name, request, every, min_new_labelled) values ('broken',"
                + " '{\"project\":\"b\",\"backend\":\"pgml\"}', interval '1 day', 5),"
                + " ('fine', '{\"project\":\"f\",\"task\":\"classification\",\"backend\":\"builtin\","
                + "\"data\":{\"collection\":\"default\",\"label_path\":\"topic\"}}', interval '1 day', 0)");

        assertThat(db.queryValue("select run_training_schedules()")).isEqualTo(1);

        assertThat((String) db.queryValue("select last_result from training_schedules where name = 'broken'"))
                .startsWith("failed: p_min_new_labelled needs a builtin request");
        assertThat(db.queryValue("select next_run_at > now() from training_schedules where name = 'broken'"))
                .isEqualTo(true);
        assertThat((String) db.queryValue("select last_result from training_schedules where name = 'fine'"))
                .startsWith("requested scheduled:f:");
        sql("delete from training_schedules where name in ('broken', 'fine')");
        sql("delete from outbox where key = 'f'");
    }

    @Test
    void requestTrainingWithoutAThresholdAlwaysRequestsAndKeepsAGivenRequestId() throws Exception {
        assertThat(db.queryValue("select request_training('{\"project\":\"p\",\"request_id\":\"mine\",\"backend\":"
                        + "\"pgml\"}'::jsonb)"))
                .isEqualTo("mine");
        assertThat(db.queryValue("select count(*) from outbox where topic = 'training' and key = 'p' and"
                        + " payload->>'schema_version' = '1'"))
                .isEqualTo(1L);
    }
}
