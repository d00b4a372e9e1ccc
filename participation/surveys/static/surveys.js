/* Conditional questions: hide a question while its condition is not met. Without this
   script every question is shown with a "Si vous avez répondu…" hint, and the server
   ignores the answers to a question whose condition is false. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-survey-form]");
  if (!form) { return; }
  var conditional = form.querySelectorAll("[data-condition-question]");
  if (!conditional.length) { return; }

  function isVisible(block) {
    return !block.classList.contains("is-hidden");
  }

  function update() {
    conditional.forEach(function (block) {
      var questionId = block.getAttribute("data-condition-question");
      var optionId = block.getAttribute("data-condition-option");
      var source = form.querySelector('[data-question="' + questionId + '"]');
      var met = false;
      if (source && isVisible(source)) {
        source.querySelectorAll('input[name="q' + questionId + '"]').forEach(function (input) {
          if (input.checked && input.value === optionId) { met = true; }
        });
      }
      block.classList.toggle("is-hidden", !met);
      block.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.disabled = !met;
      });
    });
  }

  form.addEventListener("change", update);
  update();
  // Several passes settle chains of conditions (a condition on a conditional question).
  update();
})();
