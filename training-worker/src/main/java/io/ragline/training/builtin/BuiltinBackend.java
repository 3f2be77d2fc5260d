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

    private final DataSource dataSource;

    public BuiltinBackend(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public Outcome train(JobContext job) throws Exception {
        TrainingRequest r = job.request();
        LabelledEmbeddings data;
        LabelledEmbeddings.CollectionRef collection;
        Optional<Long> deployedBefore;
        Optional<Deployed> deployed;
        try (Connection c = dataSource.getConnection()) {
            collection = LabelledEmbeddings.collection(c, r.collection())
                    .orElseThrow(() -> new JobFailure("collection '" + r.collection() + "' does not exist"));
            data = LabelledEmbeddings.load(c, collection.id(), r.labelPath());
            deployedBefore = JobRunner.deployed(c, r.project(), false);
            deployed = deployedBefore.isPresent() ? Deployed.load(c, deployedBefore.get()) : Optional.empty();
        }
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
        float[][] x = data.features().toArray(new float[0][]);
        int[] y = data.labels().stream().mapToInt(labels::indexOf).toArray();
        Hyperparameters h = Hyperparameters.from(r.hyperparameters());
        Split split = Split.of(y, r.testSize(), r.testSampling().equals("stratified"), h.seed());
        float[][] trainX = pick(x, split.train());
        int[] trainY = pick(y, split.train());
        int[] trainCounts = new int[labels.size()];
        for (int c : trainY) {
            trainCounts[c]++;
        }
        log.info(
                "{}: {} documents, {} classes, {} train / {} test, {} epochs",
                job,
                x.length,
                labels.size(),
                trainX.length,
                split.test().length,
                h.epochs());
        double[] lastLoss = {Double.NaN};
        ClassifierModel model;
        try {
            model = SoftmaxRegression.train(trainX, trainY, labels, h, (epoch, loss) -> {
                lastLoss[0] = loss;
                return !job.stopping();
            });
        } catch (SoftmaxRegression.Stopped e) {
            throw new StoppedException(e.getMessage());
        }
        int[] testY = pick(y, split.test());
        float[][] testX = pick(x, split.test());
        int[] predicted = new int[testX.length];
        for (int i = 0; i < testX.length; i++) {
            predicted[i] = model.predict(testX[i]);
        }
        Evaluation eval = Evaluation.of(testY, predicted, labels, trainCounts);
        int trainCorrect = 0;
        for (int i = 0; i < trainX.length; i++) {
            trainCorrect += model.predict(trainX[i]) == trainY[i] ? 1 : 0;
        }
        double trainAccuracy = (double) trainCorrect / trainX.length;

        List<Outcome.Metric> metrics = new ArrayList<>();
        metrics.add(new Outcome.Metric("test", "accuracy", eval.accuracy()));
        metrics.add(new Outcome.Metric("test", "macro_f1", eval.macroF1()));
        metrics.add(new Outcome.Metric("test", "baseline_accuracy", eval.baselineAccuracy()));
        metrics.add(new Outcome.Metric("test", "examples", testX.length));
        metrics.add(new Outcome.Metric("train", "accuracy", trainAccuracy));
        metrics.add(new Outcome.Metric("train", "loss", lastLoss[0]));
        metrics.add(new Outcome.Metric("train", "examples", trainX.length));
        ObjectNode perClass = JSON.createObjectNode();
        for (int c = 0; c < labels.size(); c++) {
            String l = labels.get(c);
            metrics.add(new Outcome.Metric("train", "count." + l, trainCounts[c]));
            metrics.add(new Outcome.Metric("test", "count." + l, eval.support().get(l)));
            ObjectNode pc = perClass.putObject(l);
            pc.put("train", trainCounts[c]);
            pc.put("test", eval.support().get(l));
            if (eval.f1().containsKey(l)) {
                metrics.add(new Outcome.Metric("test", "f1." + l, eval.f1().get(l)));
                pc.put("f1", eval.f1().get(l));
            }
        }
        ObjectNode summary = JSON.createObjectNode();
        summary.put("accuracy", eval.accuracy());
        summary.put("macro_f1", eval.macroF1());
        summary.put("baseline_accuracy", eval.baselineAccuracy());
        summary.put("majority_class", eval.majorityClass());
        summary.put("train_accuracy", trainAccuracy);
        summary.put("train_examples", trainX.length);
        summary.put("test_examples", testX.length);
        summary.put("dimensions", model.dimensions());
        summary.put("epochs", h.epochs());
        summary.set("classes", perClass);

        boolean deploy;
        String reason;
        switch (r.deploy()) {
            case ALWAYS -> {
                deploy = true;
                reason = "deployed: policy always";
            }
            case NEVER -> {
                deploy = false;
                reason = "not deployed: policy never";
            }
            default -> {
                if (deployed.isEmpty()) {
                    deploy = true;
                    reason = "deployed: the project had no deployed model";
                } else {
                    // Its own held-out accuracy, measured on examples it had not seen. Scoring it on
                    // this job's held-out examples would flatter it: most were in its training set.
                    double old = deployed.get().recordedAccuracy();
                    summary.put("deployed_model", deployed.get().id());
                    summary.put("deployed_model_accuracy", old);
                    deploy = eval.accuracy() > old;
                    reason = (deploy ? "deployed: " : "not deployed: ") + "held-out accuracy "
                            + String.format(java.util.Locale.ROOT, "%.4f", eval.accuracy())
                            + (deploy ? " beats " : " does not beat ") + "model "
                            + deployed.get().id() + "'s held-out accuracy "
                            + String.format(java.util.Locale.ROOT, "%.4f", old);
                }
            }
        }
        return new Outcome(
                TrainingRequest.BUILTIN_ALGORITHM,
                Optional.of(collection.id()),
                Optional.empty(),
                Optional.of(model.toBytes()),
                metrics,
                summary,
                deploy,
                deployedBefore,
                reason);
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
