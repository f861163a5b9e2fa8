// A chart mark's label (its aria-label, which Vega wrote from the data) beside the pointer,
// on hover with a mouse and on tap with a finger. The charts themselves need no script.
(function () {
  var tip = document.getElementById("tip");
  function show(event) {
    var mark = event.target.closest && event.target.closest("figure svg [aria-label]:not(g)");
    if (!mark) { tip.hidden = true; return; }
    tip.textContent = mark.getAttribute("aria-label");
    tip.hidden = false;
    var left = Math.min(event.clientX + 12, window.innerWidth - tip.offsetWidth - 4);
    tip.style.left = Math.max(4, left) + "px";
    tip.style.top = event.clientY + 16 + "px";
  }
  document.addEventListener("pointermove", show);
  document.addEventListener("pointerdown", show);
})();
