// Running total of a participatory budget ballot (progressive enhancement: without this
// script, the server checks the selection and refuses an over-budget ballot).
(function () {
  "use strict";
  var form = document.getElementById("ballot");
  if (!form) { return; }
  var rule = form.dataset.rule;
  var min = parseInt(form.dataset.min, 10) || 0;
  var max = parseInt(form.dataset.max, 10) || 0;
  var formatter = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR", maximumFractionDigits: 0 });
  var pools = Array.prototype.slice.call(form.querySelectorAll(".ballot-pool"));
  var countLine = form.querySelector(".ballot-count");
  var blocked = form.querySelector(".ballot-blocked");

  function state() {
    var over = false;
    var chosen = 0;
    pools.forEach(function (pool) {
      var envelope = parseInt(pool.dataset.envelope, 10) || 0;
      var total = 0;
      pool.querySelectorAll("input[type=checkbox]").forEach(function (box) {
        if (box.checked) { total += parseInt(box.dataset.cost, 10) || 0; chosen += 1; }
      });
      var line = pool.querySelector(".ballot-total");
      line.hidden = false;
      var text = form.dataset.labelTotal + " : " + formatter.format(total) + " / " + formatter.format(envelope);
      if (rule === "knapsack" && total > envelope) {
        over = true;
        line.classList.add("ballot-over");
        text += " — " + form.dataset.labelOver + " (" + formatter.format(total - envelope) + ")";
      } else {
        line.classList.remove("ballot-over");
        text += " — " + form.dataset.labelLeft + " " + formatter.format(envelope - total);
      }
      line.textContent = text;
    });
    if (rule === "approval") {
      countLine.hidden = false;
      countLine.textContent = chosen + " " + form.dataset.labelCount + " (" + min + "–" + max + ")";
    }
    return { over: over, chosen: chosen };
  }

  form.addEventListener("change", function () { blocked.hidden = true; state(); });
  form.addEventListener("submit", function (event) {
    var current = state();
    var message = null;
    if (rule === "knapsack" && current.over) { message = form.dataset.labelBlocked; }
    if (rule === "approval" && (current.chosen < min || (max && current.chosen > max))) { message = form.dataset.labelBounds; }
    if (message) {
      event.preventDefault();
      blocked.textContent = message;
      blocked.hidden = false;
    }
  });
  state();
})();
