package io.ragline.contracts;

/**
 * A message that breaks its contract. The message names every problem found (for a dead-letter
 * header or an operator) without repeating the payload. Consumers turn it into their own poison
 * record; producers never send what their codec would refuse.
 */
public class InvalidMessageException extends Exception {
    public InvalidMessageException(String reason) {
        super(reason);
    }
}
