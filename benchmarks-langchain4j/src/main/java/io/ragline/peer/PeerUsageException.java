package io.ragline.peer;

/** The command line is wrong: the peer prints the message and its usage and exits 2. */
final class PeerUsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PeerUsageException(String message) {
        super(message);
    }
}
