// Organization registry: filter forms marked data-drop-empty send (and push to the address bar)
// only the filters that are set, so shared links stay short: /orgs/?flag=demo
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (ev) {
    var elt = ev.detail.elt;
    if (!elt || !elt.closest || !elt.closest("[data-drop-empty]")) return;
    var fd = ev.detail.formData;
    var params = ev.detail.parameters;
    var keys = fd ? Array.from(fd.keys()) : Object.keys(params || {});
    keys.forEach(function (k) {
      var v = fd ? fd.get(k) : params[k];
      if (v === "" || v === null) {
        if (fd) { fd.delete(k); } else { delete params[k]; }
      }
    });
  });
})();
