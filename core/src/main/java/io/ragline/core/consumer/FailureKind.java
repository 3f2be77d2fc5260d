package io.ragline.core.consumer;

/** How the poll loop treats a failure (STYLE.md: poison, transient, fatal). */
public enum FailureKind {
    /** The record itself is bad: dead-letter it, never retry it. */
    POISON,
    /** The world is briefly wrong (database down, timeout, open breaker): rewind, back off, retry. */
    TRANSIENT,
    /** Retrying cannot help (authentication, missing schema): log once, stop, exit non-zero. */
    FATAL,
    /** Not recognised: retried with backoff, then dead-lettered after the attempt limit. */
    UNKNOWN
}
