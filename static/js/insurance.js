// Insurance policy form: Enter in the volunteer search box searches (htmx "search" event), it must not
// submit the whole policy form.
document.addEventListener("keydown", function (event) {
  var el = event.target;
  if (event.key === "Enter" && el && el.matches && el.matches("input[data-no-submit]")) {
    event.preventDefault();
    el.dispatchEvent(new Event("search", { bubbles: true }));
  }
});

// Show the head-count field or the volunteer picker according to the chosen 投保方式 (without JS both
// stay visible and the server ignores the one that does not apply).
function insuranceModeSync() {
  var checked = document.querySelector("#policy-form input[name=mode]:checked");
  if (!checked) return;
  document.querySelectorAll("#policy-form [data-insurance-mode]").forEach(function (el) {
    el.hidden = el.getAttribute("data-insurance-mode") !== checked.value;
  });
}
document.addEventListener("change", function (event) {
  if (event.target && event.target.matches && event.target.matches("#policy-form input[name=mode]")) {
    insuranceModeSync();
  }
});
document.addEventListener("DOMContentLoaded", insuranceModeSync);
