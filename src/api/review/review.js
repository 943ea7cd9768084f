// Keyboard shortcuts for the review page (the page works without them): "/" focuses the
// queue's filter, "r" the resolution, "c" the comment, "q" returns to the queue.
document.addEventListener("keydown", function (e) {
  var t = e.target;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) return;
  var go = { "/": "filter-kind", "r": "resolution", "c": "comment-text" }[e.key];
  if (go && document.getElementById(go)) {
    e.preventDefault();
    document.getElementById(go).focus();
  } else if (e.key === "q") {
    window.location.href = "/review";
  }
});
