/**
 * The operator console: the HTTP API under {@code /api/v1} (collections, documents, search, events, dead letters,
 * training, system, audit), its OpenAPI 3.1 document generated from the route table, Swagger UI, and the web console
 * at {@code /}, all served by one stateless process ({@code ragline console}, and {@code ragline all}).
 */
package io.ragline.console;
