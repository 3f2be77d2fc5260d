package io.ragline.training.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.contracts.Json;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Adding, listing and removing training schedules on real Postgres: a schedule the SQL function
 * could never run is refused before it is stored, and a stored one runs through {@code
 * run_training_schedules()}.
 */
class TrainingSchedulesIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static JsonNode json(String text) throws Exception {
        return Json.MAPPER.readTree(text);
    }

    private static final String BUILTIN = "{\"project\":\"nightly\",\"task\":\"classification\",\"backend\":"
            + "\"builtin\",\"data\":{\"collection\":\"default\",\"label_path\":\"topic\"}}";

    @Test
    void anAddedScheduleIsListedRunsAndIsRemoved() throws Exception {
        try (Connection c = db.connect()) {
            TrainingSchedules.Schedule s = TrainingSchedules.add(
                    c, new TrainingSchedules.NewSchedule("nightly", json(BUILTIN), "24h", 0, null));
            assertThat(s.every()).isEqualTo(Duration.ofHours(24));
            assertThat(s.enabled()).isTrue();
            assertThat(TrainingSchedules.list(c, 10, Optional.empty()))
                    .extracting(TrainingSchedules.Schedule::name)
                    .contains("nightly");

            assertThat(db.queryValue("select run_training_schedules()")).isEqualTo(1);
            assertThat(TrainingSchedules.find(c, "nightly").orElseThrow().lastResult())
                    .startsWith("requested scheduled:nightly:");

            assertThatThrownBy(() -> TrainingSchedules.add(
                            c, new TrainingSchedules.NewSchedule("nightly", json(BUILTIN), "1h", 0, true)))
                    .isInstanceOf(TrainingSchedules.NameTaken.class);
            assertThat(TrainingSchedules.remove(c, "nightly")).isTrue();
            assertThat(TrainingSchedules.remove(c, "nightly")).isFalse();
        }
    }

    @Test
    void aScheduleThatCouldNeverRunIsRefusedFieldByFieldAndNotStored() throws Exception {
        try (Connection c = db.connect()) {
            assertThatThrownBy(() -> TrainingSchedules.add(
                            c,
                            new TrainingSchedules.NewSchedule(
                                    "-bad",
                                    json("{\"project\":\"p\",\"backend\":\"pgml\",\"task\":\"classification\","
                                            + "\"data\":{\"relation\":\"t\",\"label_column\":\"y\"},"
                                            + "\"request_id\":\"x\"}"),
                                    "30s",
                                    5,
                                    null)))
                    .isInstanceOfSatisfying(
                            TrainingSchedules.Invalid.class,
                            e -> assertThat(e.fields())
                                    .containsOnlyKeys("name", "every", "min_new_labelled", "request.request_id"));
            assertThatThrownBy(() -> TrainingSchedules.add(
                            c, new TrainingSchedules.NewSchedule("x", json("{\"project\":\"p\"}"), "soon", -1, null)))
                    .isInstanceOfSatisfying(
                            TrainingSchedules.Invalid.class,
                            e -> assertThat(e.fields()).containsOnlyKeys("request", "every", "min_new_labelled"));
            assertThat(db.queryValue("select count(*) from training_schedules")).isEqualTo(0L);
        }
    }

    @Test
    void withoutPgCronTheInProcessSchedulerRunsTheSchedules() throws Exception {
        try (Connection c = db.connect()) {
            assertThat(TrainingSchedules.cronRunsThem(c)).contains(false);
        }
    }
}
