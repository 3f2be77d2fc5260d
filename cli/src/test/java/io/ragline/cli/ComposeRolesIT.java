package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.Env;
import io.ragline.core.config.Secret;
import io.ragline.devstack.Command;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.TestServices;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The roles of {@code docker-compose.yml}, without a Docker engine, against the real Postgres: the
 * script the postgres image runs on a new volume ({@code deploy/compose/10-worker-login.sh}) creates
 * the workers' login from its secret file; the migrate service's command, as the owner with its
 * password in a file, grants it {@code ragline_worker}; a worker with the compose file's worker
 * environment (that login, {@code DATABASE_PASSWORD_FILE}, {@code RAGLINE_MIGRATE_ON_START=false})
 * becomes ready. Run again, the script gives the login a new password.
 */
class ComposeRolesIT {
    @RegisterExtension
    static final PostgresSchema db = PostgresSchema.unmigrated();

    @TempDir
    Path secrets;

    @Test
    void theInitScriptsLoginGrantedByMigrateRunsAWorkerThatDoesNotMigrate() throws Exception {
        Assumptions.assumeTrue(
                Command.onPath("psql"), "the postgres image runs the script with psql, which this machine lacks");
        Owner owner = Owner.of(db);
        Path ownerFile = write("postgres_password", owner.password());
        String login = "t_compose_" + Long.toString(System.nanoTime(), 36);
        String password = randomHex();
        Path workerFile = write("worker_password", password);
        try {
            Command.Result created = workerLoginScript(owner, login, workerFile);
            assertThat(created.exitCode()).as(created.output()).isZero();
            assertThat(created.output()).contains("created the login " + login).doesNotContain(password);

            JavaProcess migrate = CliProcess.start(
                    Map.of(
                            "DATABASE_URL", withUser(owner, owner.user()),
                            "DATABASE_PASSWORD_FILE", ownerFile.toString(),
                            "RAGLINE_DB_SCHEMA", db.schema()),
                    "migrate",
                    "--worker-login",
                    login);
            assertThat(migrate.waitFor(120)).as(migrate.stderr()).isZero();
            assertThat(migrate.stdout()).contains("granted ragline_worker to " + login);

            int adminPort = freePort();
            Map<String, String> env = new HashMap<>();
            env.put("DATABASE_URL", withUser(owner, login));
            env.put("DATABASE_PASSWORD_FILE", workerFile.toString());
            env.put("KAFKA_BOOTSTRAP_SERVERS", db.env().get("KAFKA_BOOTSTRAP_SERVERS"));
            env.put("RAGLINE_MIGRATE_ON_START", "false");
            env.put("RAGLINE_DB_SCHEMA", db.schema());
            env.put("RAGLINE_ADMIN_PORT", String.valueOf(adminPort));
            env.put("RAGLINE_TOPIC_PREFIX", db.schema() + ".");
            JavaProcess worker = CliProcess.start(env, "event-dispatcher");
            CliProcess.awaitReady(adminPort, Duration.ofSeconds(60));
            worker.terminate();
            assertThat(worker.waitFor(30)).as(worker.stderr()).isZero();
            assertThat(worker.stderr()).doesNotContain(password);

            // A volume made before the script, or a new password: the script run again sets it.
            String rotated = randomHex();
            Files.writeString(workerFile, rotated + "\n");
            Command.Result again = workerLoginScript(owner, login, workerFile);
            assertThat(again.exitCode()).as(again.output()).isZero();
            assertThat(again.output()).contains("set the password of the login " + login);
            JavaProcess status = CliProcess.start(
                    Map.of(
                            "DATABASE_URL", withUser(owner, login),
                            "DATABASE_PASSWORD_FILE", workerFile.toString(),
                            "RAGLINE_DB_SCHEMA", db.schema()),
                    "status");
            assertThat(status.waitFor(60)).as(status.stderr()).isZero();
        } finally {
            db.execute("drop role if exists " + login);
        }
    }

    @Test
    void theInitScriptReadsThePasswordFileAsTheWorkersDoAndRefusesAMissingOrBlankOne() throws Exception {
        Assumptions.assumeTrue(
                Command.onPath("psql"), "the postgres image runs the script with psql, which this machine lacks");
        Owner owner = Owner.of(db);
        String login = "t_compose_" + Long.toString(System.nanoTime(), 36);
        // A file saved by an editor: two line breaks at the end. psql's backquote drops one of them;
        // DATABASE_PASSWORD_FILE drops every trailing line break.
        Path workerFile = secrets.resolve("worker_password");
        Files.writeString(workerFile, randomHex() + "\r\n\n");
        Secret password = new Env(Map.of("DATABASE_PASSWORD_FILE", workerFile.toString()))
                .secret("DATABASE_PASSWORD")
                .orElseThrow();
        try {
            Command.Result created = workerLoginScript(owner, login, workerFile);
            assertThat(created.exitCode()).as(created.output()).isZero();
            URI url = owner.url();
            String jdbc = "jdbc:postgresql://" + url.getHost() + ":" + (url.getPort() < 0 ? 5432 : url.getPort())
                    + url.getPath() + (url.getQuery() == null ? "" : "?" + url.getQuery());
            try (Connection c = DriverManager.getConnection(jdbc, login, password.reveal())) {
                assertThat(c.isValid(5)).isTrue();
            }

            for (Path unusable :
                    List.of(secrets.resolve("missing"), Files.writeString(secrets.resolve("blank"), " \n"))) {
                String other = login + "_x";
                Command.Result refused = workerLoginScript(owner, other, unusable);
                assertThat(refused.exitCode()).as(refused.output()).isNotZero();
                assertThat(refused.output())
                        .contains("WORKER_PASSWORD_FILE='" + unusable + "' cannot be read or is empty");
                assertThat(db.queryValue("select count(*) from pg_roles where rolname = '" + other + "'"))
                        .isEqualTo(0L);
            }
        } finally {
            db.execute("drop role if exists " + login);
        }
    }

    /** The schema owner's URL, as the compose file's POSTGRES_USER and its password file give it. */
    private record Owner(URI url, String user, String password) {
        static Owner of(PostgresSchema db) {
            URI url = URI.create(db.ownerDatabaseUrl().replaceFirst("^postgres(ql)?://", "postgresql://"));
            String[] credentials = url.getRawUserInfo().split(":", 2);
            return new Owner(url, decode(credentials[0]), decode(credentials[1]));
        }
    }

    /** The script as the postgres image runs it: psql as POSTGRES_USER into POSTGRES_DB. */
    private static Command.Result workerLoginScript(Owner ownerLogin, String login, Path passwordFile) {
        URI owner = ownerLogin.url();
        Command script = Command.of(
                        "sh",
                        TestServices.home()
                                .resolve("deploy/compose/10-worker-login.sh")
                                .toString())
                .env("PGHOST", owner.getHost())
                .env("PGPORT", String.valueOf(owner.getPort() < 0 ? 5432 : owner.getPort()))
                .env("PGPASSWORD", ownerLogin.password())
                .env("POSTGRES_USER", ownerLogin.user())
                .env("POSTGRES_DB", owner.getPath().substring(1))
                .env("WORKER_LOGIN", login)
                .env("WORKER_PASSWORD_FILE", passwordFile.toString())
                .timeout(Duration.ofMinutes(1));
        String query = owner.getQuery() == null ? "" : owner.getQuery();
        for (String parameter : query.split("&")) {
            if (parameter.startsWith("sslmode=")) {
                script.env("PGSSLMODE", parameter.substring("sslmode=".length()));
            }
        }
        return script.tryRun();
    }

    /** The owner's URL with {@code user} and no password (the password comes from a file). */
    private static String withUser(Owner owner, String user) {
        return owner.url().toString().replaceFirst("//[^@/]*@", "//" + user + "@");
    }

    private Path write(String name, String value) throws Exception {
        Path file = secrets.resolve(name);
        Files.writeString(file, value + "\n");
        return file;
    }

    private static String randomHex() {
        byte[] bytes = new byte[18];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
