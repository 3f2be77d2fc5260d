package io.ragline.training.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Deploying a model by hand and rolling a project back, on real Postgres: one deployed model per
 * project at every step, a rollback goes back one deployment at a time (not back and forth), and
 * what is refused changes nothing.
 */
class ModelDeploymentsIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static long model(String project, String backend) throws Exception {
        return (long) db.queryValue("insert into models (project, backend, algorithm) values ('" + project + "', '"
                + backend + "', 'softmax_regression') returning id");
    }

    private static Object deployed(String project) throws Exception {
        return db.queryValue(
                "select string_agg(id::text, ',') from models where project = '" + project + "' and deployed");
    }

    @Test
    void rollingBackWalksBackThroughTheDeploymentsOneAtATime() throws Exception {
        long a = model("walk", "builtin");
        long b = model("walk", "builtin");
        long c = model("walk", "builtin");
        try (Connection conn = db.connect()) {
            assertThat(ModelDeployments.deploy(conn, a))
                    .map(ModelDeployments.Deployment::undeployed)
                    .contains(Optional.empty());
            ModelDeployments.deploy(conn, b);
            assertThat(ModelDeployments.deploy(conn, c).orElseThrow().undeployed())
                    .contains(b);
            assertThat(deployed("walk")).isEqualTo(Long.toString(c));

            ModelDeployments.Deployment back =
                    ModelDeployments.rollback(conn, "walk").orElseThrow();
            assertThat(back.modelId()).isEqualTo(b);
            assertThat(back.undeployed()).contains(c);
            assertThat(ModelDeployments.rollback(conn, "walk").orElseThrow().modelId())
                    .isEqualTo(a);
            assertThat(deployed("walk")).isEqualTo(Long.toString(a));

            assertThatThrownBy(() -> ModelDeployments.rollback(conn, "walk"))
                    .isInstanceOf(ModelDeployments.Refused.class)
                    .hasMessageContaining("no model deployed before model " + a)
                    .matches(e -> ((ModelDeployments.Refused) e).conflict());
            assertThat(deployed("walk")).isEqualTo(Long.toString(a));

            ModelDeployments.deploy(conn, c); // by hand again: c may be rolled back to later
            assertThat(ModelDeployments.rollback(conn, "walk").orElseThrow().modelId())
                    .isEqualTo(a);
        }
    }

    @Test
    void deployingTheDeployedModelChangesNothing() throws Exception {
        long a = model("same", "builtin");
        try (Connection conn = db.connect()) {
            ModelDeployments.deploy(conn, a);
            Object at = db.queryValue("select deployed_at from models where id = " + a);
            assertThat(ModelDeployments.deploy(conn, a).orElseThrow().undeployed())
                    .isEmpty();
            assertThat(db.queryValue("select deployed_at from models where id = " + a))
                    .isEqualTo(at);
        }
    }

    @Test
    void unknownModelsAndProjectsAreEmptyAndPgmlModelsAreRefused() throws Exception {
        long p = model("pg", "pgml");
        try (Connection conn = db.connect()) {
            assertThat(ModelDeployments.deploy(conn, 987654321L)).isEmpty();
            assertThat(ModelDeployments.rollback(conn, "no such project")).isEmpty();
            assertThatThrownBy(() -> ModelDeployments.deploy(conn, p))
                    .isInstanceOf(ModelDeployments.Refused.class)
                    .hasMessageContaining("pgml model")
                    .matches(e -> !((ModelDeployments.Refused) e).conflict());
            assertThat(deployed("pg")).isNull();
        }
    }

    @Test
    void aProjectWithNothingDeployedHasNothingToRollBack() throws Exception {
        model("idle", "builtin");
        try (Connection conn = db.connect()) {
            assertThatThrownBy(() -> ModelDeployments.rollback(conn, "idle"))
                    .isInstanceOf(ModelDeployments.Refused.class)
                    .hasMessageContaining("has no deployed model");
        }
    }
}
