package io.ragline.core.http;

import io.ragline.core.config.ConfigException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * HTTPS for the HTTP ports, from PEM files as most tools write them: {@code RAGLINE_HTTP_TLS_CERT}
 * (the server's certificate, then any intermediate ones) and {@code RAGLINE_HTTP_TLS_KEY} (its key,
 * unencrypted: PKCS#8 {@code BEGIN PRIVATE KEY} with an RSA, EC or EdDSA key, or PKCS#1 {@code
 * BEGIN RSA PRIVATE KEY}). A file that cannot be read, holds something else, or a key that does not
 * belong to the certificate is a start-up problem naming the variable and the path, never the
 * key's contents.
 */
public final class HttpTls {
    private static final Pattern PEM_BLOCK =
            Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*)-----END \\1-----");
    private static final char[] STORE_PASSWORD = "ragline".toCharArray();

    private final Path certificate;
    private final Path key;
    private final SSLContext context;

    private HttpTls(Path certificate, Path key, SSLContext context) {
        this.certificate = certificate;
        this.key = key;
        this.context = context;
    }

    /** Reads both files; every problem is thrown at once, naming {@code certVariable} or {@code keyVariable}. */
    public static HttpTls load(String certVariable, Path certificate, String keyVariable, Path key) {
        List<String> problems = new ArrayList<>();
        List<Certificate> chain = certificates(certVariable, certificate, problems);
        PrivateKey privateKey = privateKey(keyVariable, key, problems);
        if (!chain.isEmpty() && privateKey != null && !belongTogether(privateKey, chain.get(0))) {
            problems.add(keyVariable + "='" + key + "' is not the key of the first certificate in " + certVariable
                    + "='" + certificate + "'");
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", privateKey, STORE_PASSWORD, chain.toArray(Certificate[]::new));
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, STORE_PASSWORD);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            return new HttpTls(certificate, key, context);
        } catch (GeneralSecurityException | IOException e) {
            throw new ConfigException(List.of(certVariable + " and " + keyVariable + " cannot serve TLS ("
                    + e.getClass().getSimpleName() + ")"));
        }
    }

    public SSLContext context() {
        return context;
    }

    /** The paths, for the start-up log. */
    @Override
    public String toString() {
        return "certificate " + certificate + ", key " + key;
    }

    private static List<Certificate> certificates(String variable, Path file, List<String> problems) {
        byte[] bytes = read(variable, file, problems);
        if (bytes == null) {
            return List.of();
        }
        try {
            List<Certificate> chain = new ArrayList<>(
                    CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes)));
            if (chain.isEmpty()
                    || !new String(bytes, StandardCharsets.US_ASCII).contains("-----BEGIN CERTIFICATE-----")) {
                problems.add(variable + "='" + file + "' holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
                return List.of();
            }
            return chain;
        } catch (GeneralSecurityException e) {
            problems.add(variable + "='" + file + "' holds no PEM certificate (-----BEGIN CERTIFICATE-----) that"
                    + " can be read");
            return List.of();
        }
    }

    private static PrivateKey privateKey(String variable, Path file, List<String> problems) {
        byte[] bytes = read(variable, file, problems);
        if (bytes == null) {
            return null;
        }
        String where = variable + "='" + file + "'";
        Matcher m = PEM_BLOCK.matcher(new String(bytes, StandardCharsets.US_ASCII));
        while (m.find()) {
            String type = m.group(1);
            if (!type.endsWith("PRIVATE KEY")) {
                continue;
            }
            byte[] der;
            try {
                der = Base64.getMimeDecoder().decode(m.group(2));
            } catch (IllegalArgumentException e) {
                problems.add(where + ": its " + type + " block is not base64");
                return null;
            }
            PrivateKey key = switch (type) {
                case "PRIVATE KEY" -> pkcs8(der);
                case "RSA PRIVATE KEY" -> pkcs8(Der.pkcs8OfPkcs1Rsa(der));
                default -> null;
            };
            if (key == null) {
                problems.add(where + " holds a " + type + " that cannot be read: use an unencrypted PKCS#8 key"
                        + " (BEGIN PRIVATE KEY) with RSA, EC or EdDSA, or PKCS#1 (BEGIN RSA PRIVATE KEY);"
                        + " `openssl pkcs8 -topk8 -nocrypt` converts others");
            }
            return key;
        }
        problems.add(where + " holds no PEM private key (-----BEGIN PRIVATE KEY-----)");
        return null;
    }

    /** The key, trying each algorithm; null when none reads it. */
    private static PrivateKey pkcs8(byte[] der) {
        for (String algorithm : List.of("RSA", "EC", "EdDSA", "RSASSA-PSS")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException | RuntimeException e) {
                // not this algorithm
            }
        }
        return null;
    }

    /** Signs with the key and verifies with the certificate: the pair belongs together. */
    private static boolean belongTogether(PrivateKey key, Certificate certificate) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "EdDSA", "Ed25519", "Ed448" -> "EdDSA";
            default -> null;
        };
        if (algorithm == null) {
            return true; // the TLS handshake checks it
        }
        try {
            byte[] probe = "ragline".getBytes(StandardCharsets.US_ASCII);
            Signature sign = Signature.getInstance(algorithm);
            sign.initSign(key);
            sign.update(probe);
            byte[] signature = sign.sign();
            Signature verify = Signature.getInstance(algorithm);
            verify.initVerify(certificate.getPublicKey());
            verify.update(probe);
            return verify.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static byte[] read(String variable, Path file, List<String> problems) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            problems.add(
                    variable + "='" + file + "' cannot be read (" + e.getClass().getSimpleName() + ")");
            return null;
        }
    }

    /** The DER needed to read a PKCS#1 RSA key with the JDK, which reads PKCS#8 only. */
    static final class Der {
        /** {@code rsaEncryption} (1.2.840.113549.1.1.1) with NULL parameters. */
        private static final byte[] RSA_ALGORITHM = {
            0x30,
            0x0d,
            0x06,
            0x09,
            0x2a,
            (byte) 0x86,
            0x48,
            (byte) 0x86,
            (byte) 0xf7,
            0x0d,
            0x01,
            0x01,
            0x01,
            0x05,
            0x00
        };

        private Der() {}

        /** {@code PrivateKeyInfo ::= SEQUENCE { version 0, algorithm, OCTET STRING pkcs1 }}. */
        static byte[] pkcs8OfPkcs1Rsa(byte[] pkcs1) {
            byte[] version = {0x02, 0x01, 0x00};
            byte[] key = tagged(0x04, pkcs1);
            byte[] body = new byte[version.length + RSA_ALGORITHM.length + key.length];
            System.arraycopy(version, 0, body, 0, version.length);
            System.arraycopy(RSA_ALGORITHM, 0, body, version.length, RSA_ALGORITHM.length);
            System.arraycopy(key, 0, body, version.length + RSA_ALGORITHM.length, key.length);
            return tagged(0x30, body);
        }

        private static byte[] tagged(int tag, byte[] content) {
            int n = content.length;
            byte[] length;
            if (n < 0x80) {
                length = new byte[] {(byte) n};
            } else if (n <= 0xff) {
                length = new byte[] {(byte) 0x81, (byte) n};
            } else if (n <= 0xffff) {
                length = new byte[] {(byte) 0x82, (byte) (n >> 8), (byte) n};
            } else {
                length = new byte[] {(byte) 0x83, (byte) (n >> 16), (byte) (n >> 8), (byte) n};
            }
            byte[] out = new byte[1 + length.length + n];
            out[0] = (byte) tag;
            System.arraycopy(length, 0, out, 1, length.length);
            System.arraycopy(content, 0, out, 1 + length.length, n);
            return out;
        }
    }
}
