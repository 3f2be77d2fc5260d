package io.ragline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.Topic;
import io.ragline.contracts.training.TrainingRequestCodec;
import io.ragline.testkit.ParagraphCorpus;
import io.ragline.testkit.ParagraphCorpus.Document;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The soak's continuous load, each stream on its own timer: versions of documents (new ones, then
 * newer versions with a paragraph replaced) to {@code documents}; signed GitHub webhooks to a
 * random ingest-worker, a refused or unanswered one sent again later under its delivery id as
 * GitHub redelivers; training requests to {@code training}. It remembers what was accepted: the
 * newest version (and text) of each document the broker acknowledged, when each acknowledged
 * version was sent, the webhooks answered 2xx, the training requests acknowledged.
 */
final class ChaosLoad implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TrainingRequestCodec TRAINING = new TrainingRequestCodec();

    /** A version the broker acknowledged: when it was sent, and whether faults were going on. */
    record Sent(long version, long sentNanos, boolean duringFaults) {}

    final Map<String, Long> newest = new ConcurrentHashMap<>();
    final Map<String, String> newestText = new ConcurrentHashMap<>();
    /** Acknowledged versions not yet seen searchable, by document, in the order sent. */
    final Map<String, Queue<Sent>> unseen = new ConcurrentHashMap<>();

    final Queue<String> failedSends = new ConcurrentLinkedQueue<>();
    final Set<String> acceptedWebhooks = ConcurrentHashMap.newKeySet();
    final AtomicInteger refusedWebhooks = new AtomicInteger();
    final Set<String> trainingRequests = ConcurrentHashMap.newKeySet();
    final AtomicInteger versionsSent = new AtomicInteger();

    private final KafkaProducer<String, String> producer;
    private final String prefix;
    private final List<Document> documents;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String secret;
    private final Supplier<Integer> webhookPort;
    private final Supplier<Boolean> faultsGoingOn;
    private final Queue<String> webhooksToSend = new ConcurrentLinkedQueue<>();
    private final ScheduledExecutorService documentsTimer = Executors.newSingleThreadScheduledExecutor();
    private final ScheduledExecutorService webhooksTimer = Executors.newSingleThreadScheduledExecutor();
    private final ScheduledExecutorService trainingTimer = Executors.newSingleThreadScheduledExecutor();
    private final AtomicInteger webhookNumber = new AtomicInteger();
    private final AtomicInteger trainingNumber = new AtomicInteger();

    /**
     * @param webhookPort a live-or-restarting ingest-worker's webhook port, drawn anew for each send
     */
    ChaosLoad(
            KafkaProducer<String, String> producer,
            String prefix,
            int documentCount,
            long seed,
            String secret,
            Supplier<Integer> webhookPort,
            Supplier<Boolean> faultsGoingOn) {
        this.producer = producer;
        this.prefix = prefix;
        this.documents = ParagraphCorpus.licences().documents("doc-", documentCount, 3, seed);
        this.secret = secret;
        this.webhookPort = webhookPort;
        this.faultsGoingOn = faultsGoingOn;
    }

    /** Starts the three streams: a version every {@code documentEvery}, a webhook and a training request as given. */
    void start(Duration documentEvery, Duration webhookEvery, Duration trainingEvery) {
        AtomicInteger n = new AtomicInteger();
        documentsTimer.scheduleAtFixedRate(
                () -> publishVersion(n.getAndIncrement()), 0, documentEvery.toMillis(), TimeUnit.MILLISECONDS);
        webhooksTimer.scheduleWithFixedDelay(
                () -> {
                    webhooksToSend.add("chaos-" + webhookNumber.incrementAndGet());
                    sendWebhooks();
                },
                0,
                webhookEvery.toMillis(),
                TimeUnit.MILLISECONDS);
        trainingTimer.scheduleAtFixedRate(this::requestTraining, 0, trainingEvery.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Stops sending anything new; webhooks not yet accepted go on being sent until accepted.
     * Returns once no document version or training request is in flight.
     */
    void stopNew() throws InterruptedException {
        documentsTimer.shutdown();
        trainingTimer.shutdown();
        documentsTimer.awaitTermination(30, TimeUnit.SECONDS);
        trainingTimer.awaitTermination(30, TimeUnit.SECONDS);
        webhooksTimer.shutdownNow();
        webhooksTimer.awaitTermination(30, TimeUnit.SECONDS);
        producer.flush();
    }

    /** Sends what webhooks are still waiting for a 2xx (after {@link #stopNew}); whether none is left. */
    boolean redeliverWebhooks() {
        sendWebhooks();
        return webhooksToSend.isEmpty();
    }

    int webhooksSent() {
        return webhookNumber.get();
    }

    private void publishVersion(int n) {
        Document base = documents.get(n % documents.size());
        long version = n / documents.size() + 1;
        Document d = version == 1 ? base : ParagraphCorpus.licences().edited(base, 1, n);
        long sentAt = System.nanoTime();
        boolean duringFaults = faultsGoingOn.get();
        versionsSent.incrementAndGet();
        producer.send(DocumentRecords.upsert(prefix, d, version), (metadata, e) -> {
            if (e != null) {
                failedSends.add(d.id() + " v" + version + ": " + e);
                return;
            }
            // Callbacks run on the producer's one I/O thread, in order.
            if (newest.merge(d.id(), version, Math::max) == version) {
                newestText.put(d.id(), d.text());
            }
            unseen.computeIfAbsent(d.id(), k -> new ConcurrentLinkedQueue<>())
                    .add(new Sent(version, sentAt, duringFaults));
        });
    }

    /** Sends each waiting webhook once; those not answered 2xx wait for the next round. */
    private void sendWebhooks() {
        List<String> again = new ArrayList<>();
        String delivery;
        while ((delivery = webhooksToSend.poll()) != null) {
            String body = "{\"ref\":\"refs/heads/main\",\"delivery\":\"" + delivery + "\"}";
            try {
                HttpResponse<String> r = GithubWebhook.send(http, webhookPort.get(), secret, "push", delivery, body);
                if (r.statusCode() / 100 == 2) {
                    acceptedWebhooks.add(delivery);
                    continue;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                again.add(delivery);
                break;
            } catch (Exception e) {
                // the worker was killed or is starting: GitHub would deliver it again, so do we
            }
            refusedWebhooks.incrementAndGet();
            again.add(delivery);
        }
        webhooksToSend.addAll(again);
    }

    /** A builtin training request on the labelled {@code blobs} collection, keyed by one of three projects. */
    private void requestTraining() {
        int n = trainingNumber.incrementAndGet();
        String requestId = "chaos-training-" + n;
        try {
            ObjectNode json = (ObjectNode) JSON.readTree("{\"schema_version\":1,\"request_id\":\"" + requestId
                    + "\",\"project\":\"chaos-" + (n % 3) + "\",\"task\":\"classification\",\"backend\":\"builtin\","
                    + "\"data\":{\"collection\":\"blobs\",\"label_path\":\"kind\"}}");
            List<String> problems = new ArrayList<>();
            var request = TrainingRequestCodec.decode(json, problems, "chaos-" + (n % 3));
            if (!problems.isEmpty()) {
                throw new IllegalStateException("training request: " + problems);
            }
            producer.send(
                    new ProducerRecord<>(
                            prefix + Topic.TRAINING.topic(), TRAINING.key(request), TRAINING.encode(request)),
                    (metadata, e) -> {
                        if (e == null) {
                            trainingRequests.add(requestId);
                        } else {
                            failedSends.add(requestId + ": " + e);
                        }
                    });
        } catch (Exception e) {
            failedSends.add(requestId + ": " + e);
        }
    }

    /** A random live ingest-worker's port, for {@code webhookPort}. */
    static Supplier<Integer> anyOf(List<Integer> ports, Random random) {
        return () -> ports.get(random.nextInt(ports.size()));
    }

    @Override
    public void close() {
        documentsTimer.shutdownNow();
        webhooksTimer.shutdownNow();
        trainingTimer.shutdownNow();
    }
}
