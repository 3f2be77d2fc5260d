package io.ragline.training.builtin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.training.Hyperparameters;
import io.ragline.contracts.training.TrainingRequest;
import io.ragline.training.job.JobContext;
import io.ragline.training.job.JobRunner;
import io.ragline.training.job.Outcome;
import io.ragline.training.job.TrainingBackend;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a softmax classifier in the JVM over the mean chunk embedding of each labelled document
 * of a collection, evaluates it on a held-out split (accuracy, macro-F1, per class, and the
 * majority-class baseline) and decides deployment: {@code if_better} deploys when the new model's
 * held-out accuracy beats the deployed model's on the same held-out documents (or, when the
 * deployed model cannot be run on them, its recorded accuracy).
 */
public final class BuiltinBackend implements TrainingBackend {
    private static final Logger log = LoggerFactory.getLogger(BuiltinBackend.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Fewer labelled documents than this cannot be split and evaluated meaningfully. */
    public static final int MIN_EXAMPLES = 10;

    private final DataSource longStatements;
    private final Duration statementTimeout;

    /**
     * @param longStatements connections of {@code Use.LONG_STATEMENTS}: reading every labelled vector
     *     of a large collection can be silent for longer than the pipeline's socket timeout, which
     *     would cut it and retry it for ever
     * @param statementTimeout the server's bound on that read ({@code RAGLINE_TRAINING_STATEMENT_TIMEOUT})
     */
    public BuiltinBackend(DataSource longStatements, Duration statementTimeout) {
        this.longStatements = longStatements;
        this.statementTimeout = statementTimeout;
    }

    @Override
    public Outcome train(JobContext job) throws Exception {
        TrainingRequest r = job.request();
        Inputs in = read(r);
        List<String> labels = labels(r, in.data());
        Hyperparameters h = Hyperparameters.from(r.hyperparameters());
        Examples ex = Examples.split(in.data(), labels, r, h);
        log.info(
                "{}: {} documents, {} classes, {} train / {} test, {} epochs",
                job,
                in.data().features().size(),
                labels.size(),
                ex.trainX().length,
                ex.testX().length,
                h.epochs());
        double[] lastLoss = {Double.NaN};
        ClassifierModel model;
        try {
            model = SoftmaxRegression.train(ex.trainX(), ex.trainY(), labels, h, (epoch, loss) -> {
                lastLoss[0] = loss;
                return !job.stopping();
            });
        } catch (SoftmaxRegression.Stopped e) {
            throw new StoppedException(e.getMessage());
        }
        Evaluation eval = Evaluation.of(ex.testY(), predict(model, ex.testX()), labels, ex.trainCounts());
        double trainAccuracy = accuracy(predict(model, ex.trainX()), ex.trainY());
        List<Outcome.Metric> metrics = metrics(eval, ex, labels, trainAccuracy, lastLoss[0]);
        ObjectNode summary = summary(eval, ex, labels, trainAccuracy, model.dimensions(), h.epochs());
        Decision decision = decide(r.deploy(), in.deployed(), eval, summary);
        return new Outcome(
                TrainingRequest.BUILTIN_ALGORITHM,
                Optional.of(in.collection().id()),
                Optional.of(in.data().generation()),
                Optional.empty(),
                Optional.of(model.toBytes()),
                metrics,
                summary,
                decision.deploy(),
                in.deployedBefore(),
                decision.reason());
    }

    /** What a job reads from the database: its examples and the project's deployed model. */
    private record Inputs(
            LabelledEmbeddings.CollectionRef collection,
            LabelledEmbeddings data,
            Optional<Long> deployedBefore,
            Optional<Deployed> deployed) {}

    private Inputs read(TrainingRequest r) throws SQLException, JobFailure {
        try (Connection c = longStatements.getConnection()) {
            // In a transaction, so that the fetch size streams the rows instead of reading them all.
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("set local statement_timeout = " + statementTimeout.toMillis());
            }
            // Read only: rolled back either way. When the read failed because the connection broke,
            // the pool has closed it and the rollback fails too ("Connection is closed"); that must
            // not hide the read's own failure, which says whether a retry can help (a broken
            // connection requeues the job, TrainingDatabaseOutageIT).
            Inputs inputs;
            try {
                inputs = read(c, r);
            } catch (Throwable failure) {
                try {
                    c.rollback();
                } catch (SQLException e) {
                    failure.addSuppressed(e);
                }
                throw failure;
            }
            c.rollback();
            return inputs;
        }
    }

    private static Inputs read(Connection c, TrainingRequest r) throws SQLException, JobFailure {
        LabelledEmbeddings.CollectionRef collection = LabelledEmbeddings.collection(c, r.collection())
                .orElseThrow(() -> new JobFailure("collection '" + r.collection() + "' does not exist"));
        LabelledEmbeddings data = LabelledEmbeddings.load(c, collection.id(), r.labelPath());
        Optional<Long> deployedBefore = JobRunner.deployed(c, r.project(), false);
        Optional<Deployed> deployed =
                deployedBefore.isPresent() ? Deployed.load(c, deployedBefore.get()) : Optional.empty();
        return new Inputs(collection, data, deployedBefore, deployed);
    }

    /** The classes in order, or a {@link JobFailure} when the examples cannot make a classifier. */
    private static List<String> labels(TrainingRequest r, LabelledEmbeddings data) throws JobFailure {
        List<String> labels = new ArrayList<>(new TreeSet<>(data.labels()));
        String where = "collection '" + r.collection() + "' at label_path '" + String.join(".", r.labelPath()) + "'";
        if (data.documents().size() < MIN_EXAMPLES) {
            throw new JobFailure("only " + data.documents().size() + " embedded documents with a label in " + where
                    + "; at least " + MIN_EXAMPLES + " are needed");
        }
        if (labels.size() < 2) {
            throw new JobFailure("every labelled document in " + where + " has the same label " + labels
                    + "; a classifier needs at least two");
        }
        return labels;
    }

    /** The examples split into a training and a held-out set, classes as indexes into the labels. */
    private record Examples(float[][] trainX, int[] trainY, float[][] testX, int[] testY, int[] trainCounts) {
        static Examples split(LabelledEmbeddings data, List<String> labels, TrainingRequest r, Hyperparameters h) {
            float[][] x = data.features().toArray(new float[0][]);
            int[] y = data.labels().stream().mapToInt(labels::indexOf).toArray();
            Split split = Split.of(y, r.testSize(), r.testSampling().equals("stratified"), h.seed());
            int[] trainY = pick(y, split.train());
            int[] trainCounts = new int[labels.size()];
            for (int c : trainY) {
                trainCounts[c]++;
            }
            return new Examples(
                    pick(x, split.train()), trainY, pick(x, split.test()), pick(y, split.test()), trainCounts);
        }
    }

    private static int[] predict(ClassifierModel model, float[][] x) {
        int[] predicted = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            predicted[i] = model.predict(x[i]);
        }
        return predicted;
    }

    private static double accuracy(int[] predicted, int[] y) {
        int correct = 0;
        for (int i = 0; i < y.length; i++) {
            correct += predicted[i] == y[i] ? 1 : 0;
        }
        return (double) correct / y.length;
    }

    private static List<Outcome.Metric> metrics(
            Evaluation eval, Examples ex, List<String> labels, double trainAccuracy, double lastLoss) {
        List<Outcome.Metric> metrics = new ArrayList<>();
        metrics.add(new Outcome.Metric("test", "accuracy", eval.accuracy()));
        metrics.add(new Outcome.Metric("test", "macro_f1", eval.macroF1()));
        metrics.add(new Outcome.Metric("test", "baseline_accuracy", eval.baselineAccuracy()));
        metrics.add(new Outcome.Metric("test", "examples", ex.testX().length));
        metrics.add(new Outcome.Metric("train", "accuracy", trainAccuracy));
        metrics.add(new Outcome.Metric("train", "loss", lastLoss));
        metrics.add(new Outcome.Metric("train", "examples", ex.trainX().length));
        for (int c = 0; c < labels.size(); c++) {
            String l = labels.get(c);
            metrics.add(new Outcome.Metric("train", "count." + l, ex.trainCounts()[c]));
            metrics.add(new Outcome.Metric("test", "count." + l, eval.support().get(l)));
            if (eval.f1().containsKey(l)) {
                metrics.add(new Outcome.Metric("test", "f1." + l, eval.f1().get(l)));
            }
        }
        return metrics;
    }

    private static ObjectNode summary(
            Evaluation eval, Examples ex, List<String> labels, double trainAccuracy, int dimensions, int epochs) {
        ObjectNode perClass = JSON.createObjectNode();
        for (int c = 0; c < labels.size(); c++) {
            String l = labels.get(c);
            ObjectNode pc = perClass.putObject(l);
            pc.put("train", ex.trainCounts()[c]);
            pc.put("test", eval.support().get(l));
            if (eval.f1().containsKey(l)) {
                pc.put("f1", eval.f1().get(l));
            }
        }
        ObjectNode summary = JSON.createObjectNode();
        summary.put("accuracy", eval.accuracy());
        summary.put("macro_f1", eval.macroF1());
        summary.put("baseline_accuracy", eval.baselineAccuracy());
        summary.put("majority_class", eval.majorityClass());
        summary.put("train_accuracy", trainAccuracy);
        summary.put("train_examples", ex.trainX().length);
        summary.put("test_examples", ex.testX().length);
        summary.put("dimensions", dimensions);
        summary.put("epochs", epochs);
        summary.set("classes", perClass);
        return summary;
    }

    private record Decision(boolean deploy, String reason) {}

    /** Applies the deploy policy; {@code if_better} adds the compared model to {@code summary}. */
    private static Decision decide(
            TrainingRequest.Deploy policy, Optional<Deployed> deployed, Evaluation eval, ObjectNode summary) {
        switch (policy) {
            case ALWAYS -> {
                return new Decision(true, "deployed: policy always");
            }
            case NEVER -> {
                return new Decision(false, "not deployed: policy never");
            }
            default -> {
                if (deployed.isEmpty()) {
                    return new Decision(true, "deployed: the project had no deployed model");
                }
                // Its own held-out accuracy, measured on examples it had not seen. Scoring it on
                // this job's held-out examples would flatter it: most were in its training set.
                double old = deployed.get().recordedAccuracy();
                summary.put("deployed_model", deployed.get().id());
                summary.put("deployed_model_accuracy", old);
                boolean deploy = eval.accuracy() > old;
                return new Decision(
                        deploy,
                        (deploy ? "deployed: " : "not deployed: ") + "held-out accuracy "
                                + String.format(java.util.Locale.ROOT, "%.4f", eval.accuracy())
                                + (deploy ? " beats " : " does not beat ") + "model "
                                + deployed.get().id() + "'s held-out accuracy "
                                + String.format(java.util.Locale.ROOT, "%.4f", old));
            }
        }
    }

    /** The project's deployed model, as far as it can be compared with a new one. */
    private record Deployed(long id, String backend, Integer collectionId, byte[] artifact, double recordedAccuracy) {
        static Optional<Deployed> load(Connection c, long id) throws SQLException {
            try (PreparedStatement s = c.prepareStatement("select backend, collection_id, artifact,"
                    + " coalesce((metrics->>'accuracy')::float8, 0) from models where id = ?")) {
                s.setLong(1, id);
                try (ResultSet rs = s.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    return Optional.of(new Deployed(
                            id, rs.getString(1), (Integer) rs.getObject(2), rs.getBytes(3), rs.getDouble(4)));
                }
            }
        }
    }

    private static float[][] pick(float[][] x, int[] idx) {
        float[][] out = new float[idx.length][];
        for (int i = 0; i < idx.length; i++) {
            out[i] = x[idx[i]];
        }
        return out;
    }

    private static int[] pick(int[] y, int[] idx) {
        int[] out = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            out[i] = y[idx[i]];
        }
        return out;
    }
}
