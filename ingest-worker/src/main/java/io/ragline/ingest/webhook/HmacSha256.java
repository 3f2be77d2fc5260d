package io.ragline.ingest.webhook;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HMAC-SHA256 over a signed prefix and the raw body, and constant-time comparison of the result. */
final class HmacSha256 {
    private static final HexFormat HEX = HexFormat.of();

    private final SecretKeySpec key;

    HmacSha256(byte[] key) {
        if (key.length == 0) {
            throw new IllegalArgumentException("an HMAC key must not be empty");
        }
        this.key = new SecretKeySpec(key, "HmacSHA256");
    }

    static HmacSha256 ofUtf8(String secret) {
        return new HmacSha256(secret.getBytes(StandardCharsets.UTF_8));
    }

    /** The MAC of {@code prefix} followed by {@code body}, without copying the body. */
    byte[] sign(String prefix, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            mac.update(prefix.getBytes(StandardCharsets.UTF_8));
            mac.update(body);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    /** Constant-time for equal lengths ({@link MessageDigest#isEqual}); a length mismatch is no match. */
    static boolean equal(byte[] expected, byte[] given) {
        return given != null && MessageDigest.isEqual(expected, given);
    }

    /** Lower- or upper-case hex to bytes; null when it is not hex of the expected length. */
    static byte[] hex(String s, int bytes) {
        if (s.length() != bytes * 2) {
            return null;
        }
        try {
            return HEX.parseHex(s);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
