# syntax=docker/dockerfile:1
# One image for every Ragline process: the command is the subcommand.
#   docker build -t ragline/ragline:local .
#   docker run --env-file config.env ragline/ragline:local ingest-worker
# Build stage: the Maven wrapper on a JDK 21 builds the distribution (ragline-VERSION.tar.gz);
# run stage: distroless Java 21 (a JRE, no shell), the distribution unpacked at /opt/ragline.

FROM eclipse-temurin:21-jdk AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -DskipTests package -pl distribution -am \
    && mkdir -p /opt/ragline \
    && tar -xzf distribution/target/ragline-*.tar.gz --strip-components=1 -C /opt/ragline

FROM gcr.io/distroless/java21-debian13:nonroot
# The version and source the image says it is: docker build --build-arg VERSION=0.1.0 ...
ARG VERSION=0.1.0
ARG SOURCE_URL=
# No org.opencontainers.image.licenses: the repository declares no licence of its own.
LABEL org.opencontainers.image.title="ragline" \
      org.opencontainers.image.description="Event-driven pipeline that keeps a RAG store in PostgreSQL (pgvector) fresh from Kafka: ingest-worker, embedding-worker, training-worker, event-dispatcher, migrate." \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.version="${VERSION}"
# bin/, lib/ (the models are inside the langchain4j-embeddings jars: nothing is downloaded at run
# time), config/ examples, licenses/.
COPY --from=build /opt/ragline /opt/ragline
# distroless's nonroot user; only /tmp is written at run time (ONNX Runtime unpacks its native
# library into java.io.tmpdir), so the root filesystem may be read-only.
USER 65532:65532
# HTTP: webhooks of ingest-worker, search of embedding-worker. Admin (/health/live,
# /health/ready, /metrics): all, ingest-worker, embedding-worker, training-worker, event-dispatcher.
EXPOSE 8081 8082 8085 9080 9081 9082 9083 9084 9085
# `ragline health` GETs /health/ready on RAGLINE_ADMIN_PORT, else on the first default admin port
# that answers (one process per container). Kubernetes probes the admin port itself instead.
HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 \
    CMD ["java", "-Xmx32m", "-XX:TieredStopAtLevel=1", "-jar", "/opt/ragline/lib/ragline-cli.jar", "health"]
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/opt/ragline/lib/ragline-cli.jar"]
CMD ["--help"]
