// Insurance policy form: Enter in the volunteer search box searches (htmx "search" event), it must not
// submit the whole policy form.
document.addEventListener("keydown", function (event) {
  var el = event.target;
  if (event.key === "Enter" && el && el.matches && el.matches("input[data-no-submit]")) {
    event.preventDefault();
    el.dispatchEvent(new Event("search", { bubbles: true }));
  }
});
