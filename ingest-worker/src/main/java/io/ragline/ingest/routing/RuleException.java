package io.ragline.ingest.routing;

/**
 * A rule cannot be applied to an event: a required field has no value at its path, a value has
 * the wrong type, the rule is invalid, the collection does not exist. Retrying cannot help; the
 * event is marked failed with this message (it names the rule and the field, never the payload).
 */
final class RuleException extends Exception {
    RuleException(String message) {
        super(message);
    }
}
