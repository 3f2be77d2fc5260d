// Swagger UI over Ragline's own OpenAPI document, served from this process (no network needed).
window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "../openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    validatorUrl: "none"
  });
};
