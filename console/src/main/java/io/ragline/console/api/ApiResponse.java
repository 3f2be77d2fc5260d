package io.ragline.console.api;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What a handler answers: a status and a JSON body (none for 204), and for a mutating call the
 * outcome the audit log records (by default the status's meaning).
 */
public record ApiResponse(int status, JsonNode body, String outcome) {
    public static ApiResponse ok(JsonNode body) {
        return new ApiResponse(200, body, "done");
    }

    public static ApiResponse created(JsonNode body) {
        return new ApiResponse(201, body, "created");
    }

    /** Taken on: the effect follows asynchronously (a message published, a job queued). */
    public static ApiResponse accepted(JsonNode body) {
        return new ApiResponse(202, body, "accepted");
    }

    public static ApiResponse noContent() {
        return new ApiResponse(204, null, "done");
    }

    /** The same answer with {@code outcome} in the audit log ("replayed 3 events"). */
    public ApiResponse withOutcome(String outcome) {
        return new ApiResponse(status, body, outcome);
    }
}
