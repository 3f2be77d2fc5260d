package io.ragline.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A certificate authority made at test time with the JDK's own {@code keytool}, and the server and
 * client certificates it signs, in every form the peers want: PKCS#12 key and trust stores (Kafka,
 * the JDK), PEM certificates and PKCS#8 PEM keys (PostgreSQL, OpenSSL tools), PKCS#8 DER keys
 * (the PostgreSQL JDBC driver's {@code sslkey}). Nothing is fetched; every run makes its own.
 *
 * <pre>{@code
 * TestCertificates ca = TestCertificates.authority(dir, "ragline-test-ca");
 * TestCertificates.Issued broker = ca.issue("broker", "dns:localhost", "ip:127.0.0.1");
 * }</pre>
 */
public final class TestCertificates {
    private static final String KEYTOOL =
            Path.of(System.getProperty("java.home"), "bin", "keytool").toString();

    private final Path dir;
    private final String password;
    private final Path authorityStore;
    private final Path caPem;
    private final Path truststore;

    private TestCertificates(Path dir, String password) {
        this.dir = dir;
        this.password = password;
        this.authorityStore = dir.resolve("ca.p12");
        this.caPem = dir.resolve("ca.pem");
        this.truststore = dir.resolve("truststore.p12");
    }

    /** A new self-signed authority named {@code commonName}, its files under {@code dir}. */
    public static TestCertificates authority(Path dir, String commonName) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        TestCertificates ca = new TestCertificates(dir, "test-" + Long.toHexString(System.nanoTime()));
        ca.keytool(
                "-genkeypair",
                "-alias",
                "ca",
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-validity",
                "30",
                "-dname",
                "CN=" + commonName,
                "-ext",
                "bc:c=ca:true",
                "-ext",
                "KeyUsage=keyCertSign,cRLSign",
                "-keystore",
                ca.authorityStore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                ca.password,
                "-keypass",
                ca.password);
        ca.keytool(
                "-exportcert",
                "-rfc",
                "-alias",
                "ca",
                "-file",
                ca.caPem.toString(),
                "-keystore",
                ca.authorityStore.toString(),
                "-storepass",
                ca.password);
        ca.keytool(
                "-importcert",
                "-noprompt",
                "-alias",
                "ca",
                "-file",
                ca.caPem.toString(),
                "-keystore",
                ca.truststore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                ca.password);
        return ca;
    }

    /**
     * A key pair and a certificate for {@code commonName} signed by this authority, good for both
     * server and client authentication; {@code subjectAltNames} in keytool's form
     * ({@code dns:localhost}, {@code ip:127.0.0.1}).
     */
    public Issued issue(String commonName, String... subjectAltNames) {
        String alias = commonName.replaceAll("[^A-Za-z0-9_-]", "_");
        Path keystore = dir.resolve(alias + ".p12");
        Path request = dir.resolve(alias + ".csr");
        Path certPem = dir.resolve(alias + ".pem");
        keytool(
                "-genkeypair",
                "-alias",
                alias,
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-validity",
                "30",
                "-dname",
                "CN=" + commonName,
                "-keystore",
                keystore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                password,
                "-keypass",
                password);
        keytool(
                "-certreq",
                "-alias",
                alias,
                "-file",
                request.toString(),
                "-keystore",
                keystore.toString(),
                "-storepass",
                password);
        sign(request, certPem, subjectAltNames);
        importCertificate(keystore, "ca", caPem);
        importCertificate(keystore, alias, certPem);
        Path keyDer = dir.resolve(alias + ".pk8");
        Path keyPem = dir.resolve(alias + ".key");
        writeKey(keystore, alias, keyDer, keyPem);
        try {
            Files.delete(request);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Issued(commonName, keystore, certPem, keyPem, keyDer, password);
    }

    /** Signs {@code request} with the authority's key into {@code certPem}. */
    private void sign(Path request, Path certPem, String... subjectAltNames) {
        List<String> sign = new ArrayList<>(List.of(
                "-gencert",
                "-alias",
                "ca",
                "-rfc",
                "-validity",
                "30",
                "-infile",
                request.toString(),
                "-outfile",
                certPem.toString(),
                "-keystore",
                authorityStore.toString(),
                "-storepass",
                password,
                "-ext",
                "KeyUsage=digitalSignature,keyEncipherment",
                "-ext",
                "EKU=serverAuth,clientAuth"));
        if (subjectAltNames.length > 0) {
            sign.add("-ext");
            sign.add("SAN=" + String.join(",", subjectAltNames));
        }
        keytool(sign.toArray(String[]::new));
    }

    private void importCertificate(Path keystore, String alias, Path certificate) {
        keytool(
                "-importcert",
                "-noprompt",
                "-alias",
                alias,
                "-file",
                certificate.toString(),
                "-keystore",
                keystore.toString(),
                "-storepass",
                password);
    }

    /** The key of {@code alias} as PKCS#8 DER and PEM, each readable by its owner only. */
    private void writeKey(Path keystore, String alias, Path der, Path pem) {
        byte[] key = privateKey(keystore, alias);
        try {
            Files.write(der, key);
            Files.writeString(pem, pem("PRIVATE KEY", key));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ownerOnly(der);
        ownerOnly(pem);
    }

    /** The authority's certificate, PEM (PostgreSQL's {@code sslrootcert}, {@code ssl_ca_file}). */
    public Path caPem() {
        return caPem;
    }

    /** A PKCS#12 store holding only the authority's certificate; its password is {@link #password()}. */
    public Path truststore() {
        return truststore;
    }

    /** The one password of every store made here (test material, not a secret of anything real). */
    public String password() {
        return password;
    }

    /**
     * What {@link #issue} made: a PKCS#12 {@code keystore} (the key, the certificate and the
     * authority's), the certificate as PEM, the key as PKCS#8 PEM and as PKCS#8 DER (both readable
     * by the owner only, as PostgreSQL and libpq demand).
     */
    public record Issued(String commonName, Path keystore, Path certPem, Path keyPem, Path keyDer, String password) {}

    private byte[] privateKey(Path keystore, String alias) {
        try (InputStream in = Files.newInputStream(keystore)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password.toCharArray());
            return ((PrivateKey) ks.getKey(alias, password.toCharArray())).getEncoded();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot read the key of " + alias + " from " + keystore, e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static void ownerOnly(Path file) {
        try {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException | IOException e) {
            throw new IllegalStateException("cannot make " + file + " readable by its owner only", e);
        }
    }

    private void keytool(String... args) {
        List<String> command = new ArrayList<>();
        command.add(KEYTOOL);
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("keytool " + args[0] + " did not finish within 60 s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("keytool " + args[0] + " failed (" + p.exitValue() + "): " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running keytool", e);
        }
    }
}
