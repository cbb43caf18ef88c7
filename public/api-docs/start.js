// Starts Swagger UI on Portcullis' own OpenAPI document (a file, so the page's policy can allow
// this origin's scripts only). The Swagger UI files beside it come from npm's swagger-ui-dist,
// copied here by .ci/setup.
window.addEventListener("load", function () {
  if (typeof window.SwaggerUIBundle !== "function") {
    document.getElementById("docs").textContent =
      "The API reader is not installed (run bash .ci/setup). The document is at /api/openapi.json.";
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#docs",
    deepLinking: true,
    validatorUrl: null,
  });
});
