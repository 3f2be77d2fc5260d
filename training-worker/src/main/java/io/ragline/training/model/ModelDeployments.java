package io.ragline.training.model;

import io.ragline.contracts.training.TrainingRequest;
import io.ragline.training.job.JobRunner;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * Deploying a model by hand, and rolling a project back to the model it had before (the console's
 * {@code /api/v1/training/models/{id}/deploy} and {@code /training/projects/{project}/rollback}).
 * A project has at most one deployed model ({@code models.deployed}, a unique index); the
 * training-worker's {@code PredictionWriter} labels newly embedded documents with it from the next
 * document on. Each change takes the project's deployment lock ({@link JobRunner#deployed}), the one
 * a finishing job takes, in one transaction. A rollback undeploys the project's model, marks it
 * {@code rolled_back_at}, and deploys the latest-deployed of its other models not so marked
 * (migration V18), so a second rollback goes one further back instead of swapping the two. Only
 * builtin models: PostgresML keeps its own deployments ({@code pgml.deployments}), which
 * {@code pgml.predict} reads, and a flag here would not change what it predicts with.
 */
public final class ModelDeployments {
    private ModelDeployments() {}

    /** What a deploy or rollback left: {@code modelId} deployed, {@code undeployed} the one it replaced. */
    public record Deployment(String project, long modelId, Optional<Long> undeployed) {}

    /** A deploy or rollback refused: a rule ({@code conflict} false) or the project's state (true). */
    public static final class Refused extends Exception {
        private final boolean conflict;

        Refused(String message, boolean conflict) {
            super(message);
            this.conflict = conflict;
        }

        /** True when the project's state refused it (nothing to roll back to), false for a rule (pgml). */
        public boolean conflict() {
            return conflict;
        }
    }

    /**
     * Deploys model {@code id} (its project's deployed model is undeployed); deploying the deployed
     * model changes nothing. Empty when there is no such model.
     */
    public static Optional<Deployment> deploy(Connection c, long id) throws SQLException, Refused {
        return inTransaction(c, () -> {
            Optional<String[]> model = model(c, id);
            if (model.isEmpty()) {
                return Optional.empty();
            }
            String project = model.get()[0];
            builtin(model.get()[1], "model " + id);
            Optional<Long> current = JobRunner.deployed(c, project, true);
            if (current.isPresent() && current.get() == id) {
                return Optional.of(new Deployment(project, id, Optional.empty()));
            }
            if (current.isPresent()) {
                undeploy(c, current.get(), false);
            }
            switchOn(c, id);
            return Optional.of(new Deployment(project, id, current));
        });
    }

    /**
     * Undeploys {@code project}'s model and deploys the one deployed before it. Empty when the
     * project has no model at all.
     */
    public static Optional<Deployment> rollback(Connection c, String project) throws SQLException, Refused {
        return inTransaction(c, () -> {
            Optional<String> backend = backend(c, project);
            if (backend.isEmpty()) {
                return Optional.empty();
            }
            builtin(backend.get(), "project '" + project + "'");
            Optional<Long> current = JobRunner.deployed(c, project, true);
            if (current.isEmpty()) {
                throw new Refused("project '" + project + "' has no deployed model to roll back", true);
            }
            Optional<Long> before = deployedBefore(c, project);
            if (before.isEmpty()) {
                throw new Refused(
                        "project '" + project + "' has no model deployed before model " + current.get()
                                + " (and not rolled back itself) to roll back to",
                        true);
            }
            undeploy(c, current.get(), true);
            switchOn(c, before.get());
            return Optional.of(new Deployment(project, before.get(), current));
        });
    }

    @FunctionalInterface
    private interface Work {
        Optional<Deployment> run() throws SQLException, Refused;
    }

    private static Optional<Deployment> inTransaction(Connection c, Work work) throws SQLException, Refused {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            Optional<Deployment> d = work.run();
            c.commit();
            return d;
        } catch (SQLException | Refused | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    private static void builtin(String backend, String what) throws Refused {
        if (!TrainingRequest.Backend.BUILTIN.sql().equals(backend)) {
            throw new Refused(
                    what + " is a " + backend + " model: PostgresML deploys its models itself (pgml.deploy), so"
                            + " Ragline deploys and rolls back builtin models only",
                    false);
        }
    }

    private static Optional<String[]> model(Connection c, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select project, backend from models where id = ?")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(new String[] {rs.getString(1), rs.getString(2)}) : Optional.empty();
            }
        }
    }

    /** The backend of the project's newest model, if it has any. */
    private static Optional<String> backend(Connection c, String project) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("select backend from models where project = ? order by id desc limit 1")) {
            s.setString(1, project);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        }
    }

    private static Optional<Long> deployedBefore(Connection c, String project) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select id from models where project = ? and not deployed and"
                + " deployed_at is not null and rolled_back_at is null and backend = ? order by deployed_at desc,"
                + " id desc limit 1")) {
            s.setString(1, project);
            s.setString(2, TrainingRequest.Backend.BUILTIN.sql());
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(rs.getLong(1)) : Optional.empty();
            }
        }
    }

    private static void undeploy(Connection c, long id, boolean rolledBack) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("update models set deployed = false, rolled_back_at = case"
                + " when ? then now() else rolled_back_at end where id = ?")) {
            s.setBoolean(1, rolledBack);
            s.setLong(2, id);
            s.executeUpdate();
        }
    }

    private static void switchOn(Connection c, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "update models set deployed = true, deployed_at = now(), rolled_back_at = null where id = ?")) {
            s.setLong(1, id);
            s.executeUpdate();
        }
    }
}
