package io.ragline.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two training-workers of one group, in this JVM, on real Postgres and Kafka: worker A runs two
 * long jobs, one per partition of a two-partition {@code training} topic, when worker B joins.
 * Cooperative-sticky rebalancing moves exactly one of A's partitions to B, with its request not
 * committed. What TrainingConsumer promises for that partition: A's job goes on and A commits
 * nothing for it; B takes the request, finds the row {@code running} with a fresh heartbeat and
 * watches it instead of running it; B commits once the row is final. Both requests end the same
 * way whichever one moved: one row, one attempt, one model, one {@code training.succeeded} event,
 * the offset committed past the request, and no offset committed while the job still ran.
 */
class TrainingRebalanceIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @Test
    void aPartitionRevokedMidJobIsCommittedByItsNewOwnerOnceTheJobEndsAndTheJobRunsOnce() throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        String prefix = "trrebal" + id + ".";
        String topic = KafkaTopics.createNamed(prefix + "training", 2);
        Map<String, String> env = TrainingJobsIT.env(db, prefix);
        env.put("RAGLINE_GROUP_PREFIX", "trrebal" + id); // a group of its own: no other test's members
        String group = "trrebal" + id + "-training";

        WorkerRuntime a = TrainingFixtures.startWorker("training-a", env);
        WorkerRuntime b = null;
        try {
            CorpusLoader.createCollection(db, TrainingJobsIT.COLLECTION);
            CorpusLoader.load(
                    db,
                    TrainingJobsIT.COLLECTION,
                    PackageCorpus.read(List.of("games", "science"), 20).packages(),
                    "section");
            // About 30 s each: long enough for B to start, join and be handed a partition meanwhile.
            String slow = "{\"epochs\":600,\"epoch_pause_ms\":50}";
            RecordMetadata[] sent = new RecordMetadata[2];
            try (KafkaProducer<String, String> p = KafkaTopics.producer()) {
                for (int partition = 0; partition < 2; partition++) {
                    String project = "moved" + partition;
                    sent[partition] = p.send(new ProducerRecord<>(
                                    topic, partition, project, TrainingJobsIT.request(project + "-1", project, slow)))
                            .get();
                }
            }
            await().atMost(Duration.ofMinutes(2))
                    .until(() -> "running".equals(status("moved0-1")) && "running".equals(status("moved1-1")));
            String workerA = (String) value("select worker from training_jobs where request_id = 'moved0-1'");
            assertThat(value("select worker from training_jobs where request_id = 'moved1-1'"))
                    .isEqualTo(workerA);

            b = TrainingFixtures.startWorker("training-b", env);
            WorkerRuntime joined = b;
            // One partition each now: one of A's two in-flight partitions moved. B polled its
            // uncommitted request and found the job's row not final (admitted, not a duplicate).
            await().atMost(Duration.ofMinutes(2))
                    .until(() -> partitionsPerMember(group).equals(List.of(1, 1)) && requests(joined, "admitted") == 1);
            assertThat(requests(b, "duplicate")).isZero();
            assertThat(status("moved0-1")).isEqualTo("running");
            assertThat(status("moved1-1")).isEqualTo("running");

            // While a job runs, nobody commits its request: B waits for the row to become final.
            while ("running".equals(status("moved0-1")) || "running".equals(status("moved1-1"))) {
                for (int partition = 0; partition < 2; partition++) {
                    long committed = TrainingFixtures.committed(group, topic, partition);
                    if ("running".equals(status("moved" + partition + "-1"))) {
                        assertThat(committed)
                                .as("offset committed on partition %d while its job runs", partition)
                                .isLessThanOrEqualTo(sent[partition].offset());
                    }
                }
                Thread.sleep(500);
            }

            for (int partition = 0; partition < 2; partition++) {
                String project = "moved" + partition;
                String request = project + "-1";
                await().atMost(Duration.ofMinutes(2)).until(() -> "succeeded".equals(status(request)));
                int p = partition;
                await().atMost(Duration.ofMinutes(1))
                        .until(() -> TrainingFixtures.committed(group, topic, p) > sent[p].offset());
                assertThat(value("select count(*) from training_jobs where project = ?", project))
                        .isEqualTo(1L);
                assertThat(value("select attempts from training_jobs where request_id = ?", request))
                        .isEqualTo(1);
                assertThat(value("select worker from training_jobs where request_id = ?", request))
                        .isEqualTo(workerA);
                assertThat(value("select count(*) from models where project = ?", project))
                        .isEqualTo(1L);
                assertThat(TrainingFixtures.events(db, "training.succeeded", project))
                        .hasSize(1);
            }
            // A ran both jobs to the end; B ran none (it only watched the one it was handed).
            assertThat(TrainingFixtures.count(a, "ragline.training.jobs", "outcome", "succeeded"))
                    .isEqualTo(2.0);
            assertThat(b.registry().find("ragline.training.jobs").counters()).isEmpty();
        } finally {
            if (b != null) {
                b.close();
            }
            a.close();
        }
    }

    private static Object value(String sql, Object... args) throws Exception {
        return TrainingFixtures.value(db, sql, args);
    }

    private static String status(String requestId) throws Exception {
        return (String) value("select status from training_jobs where request_id = ?", requestId);
    }

    private static double requests(WorkerRuntime runtime, String outcome) {
        return TrainingFixtures.count(runtime, "ragline.training.requests", "outcome", outcome);
    }

    /** How many partitions each member of {@code group} owns, sorted. */
    private static List<Integer> partitionsPerMember(String group) throws Exception {
        return TrainingFixtures.describe(group).members().stream()
                .map(MemberDescription::assignment)
                .map(m -> m.topicPartitions().size())
                .sorted()
                .toList();
    }
}
