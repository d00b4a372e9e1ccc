/* Sign-up of a collectivité: progressive enhancement only (billing/signup_views.py).
 *
 * Every page works without this file: the search is a GET form listing radio buttons, the
 * subdomain is checked when the form is posted, the progress page reloads itself. With it:
 * - the search field becomes an ARIA 1.2 combobox (list autocomplete, arrow keys, Enter,
 *   Escape) fed by the JSON search, with the number of results announced;
 * - the subdomain is checked while it is typed;
 * - the progress page asks for the state instead of reloading, and announces the change.
 * French texts come from the pages (data-* attributes, JSON messages).
 */
(function () {
  "use strict";

  var MIN_QUERY_LENGTH = 2;

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function getJSON(url) {
    return fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : match;
    });
  }

  /* ------------------------------------------------------------------ combobox */

  function enhanceSearch(form) {
    var input = form.querySelector("input[name=q]");
    var listbox = document.getElementById(form.getAttribute("data-listbox"));
    var status = document.getElementById(form.getAttribute("data-status"));
    var button = form.querySelector("[data-search-button]");
    var help = form.querySelector("[data-combobox-help]");
    var searchUrl = form.getAttribute("data-search-url");
    var text = {
      none: form.getAttribute("data-msg-none"),
      one: form.getAttribute("data-msg-one"),
      many: form.getAttribute("data-msg-many"),
      chosen: form.getAttribute("data-msg-chosen"),
      proceed: form.getAttribute("data-label-continue")
    };
    if (!input || !listbox || !status || !button || !searchUrl) {
      return;
    }
    var searchLabel = button.textContent;
    var choice = document.createElement("input");
    choice.type = "hidden";
    choice.name = "choix";
    choice.disabled = true; // sent only once a collectivité is chosen
    form.appendChild(choice);

    var options = [];
    var active = -1;
    var requestId = 0;
    var lastQuery = null;

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);
    if (help) {
      help.hidden = false;
    }

    function announce(message) {
      status.textContent = message || "";
    }

    function expand() {
      if (!options.length) {
        return;
      }
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function setActive(index) {
      active = index;
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function collapse() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      setActive(-1);
    }

    function clearChoice() {
      if (!choice.disabled) {
        choice.value = "";
        choice.disabled = true;
        button.textContent = searchLabel;
      }
    }

    function choose(index) {
      var option = options[index];
      if (!option) {
        return;
      }
      input.value = option.textContent;
      lastQuery = input.value.trim();
      choice.value = option.getAttribute("data-value");
      choice.disabled = false;
      if (text.proceed) {
        button.textContent = text.proceed;
      }
      collapse();
      announce(fill(text.chosen || "{label}", { label: option.textContent }));
    }

    function render(results) {
      listbox.textContent = "";
      options = results.map(function (result, i) {
        var option = document.createElement("li");
        option.id = listbox.id + "-option-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("data-value", result.value);
        option.textContent = result.label;
        listbox.appendChild(option);
        return option;
      });
      setActive(-1);
      if (options.length) {
        expand();
      } else {
        collapse();
      }
      var count = results.length;
      var template = count === 0 ? text.none : count === 1 ? text.one : text.many;
      announce(fill(template || "", { count: count }));
    }

    var search = debounce(function () {
      var query = input.value.trim();
      if (query.length < MIN_QUERY_LENGTH) {
        lastQuery = null;
        options = [];
        listbox.textContent = "";
        collapse();
        announce("");
        return;
      }
      if (query === lastQuery) {
        return;
      }
      lastQuery = query;
      var id = ++requestId;
      getJSON(searchUrl + "?q=" + encodeURIComponent(query))
        .then(function (data) {
          if (id === requestId && input.value.trim() === query) {
            render(data.results || []);
          }
        })
        .catch(function () {
          lastQuery = null; // the search button still works
        });
    }, 250);

    input.addEventListener("input", function () {
      clearChoice();
      search();
    });

    input.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey) {
        return;
      }
      switch (event.key) {
        case "ArrowDown":
          if (!options.length) {
            return;
          }
          event.preventDefault();
          if (listbox.hidden) {
            expand();
            if (!event.altKey) {
              setActive(0);
            }
          } else {
            setActive((active + 1) % options.length);
          }
          break;
        case "ArrowUp":
          if (!options.length) {
            return;
          }
          event.preventDefault();
          if (listbox.hidden) {
            expand();
            setActive(options.length - 1);
          } else {
            setActive(active <= 0 ? options.length - 1 : active - 1);
          }
          break;
        case "Enter":
          // With an option highlighted, Enter chooses it; otherwise it submits the form.
          if (!listbox.hidden && active >= 0) {
            event.preventDefault();
            choose(active);
          }
          break;
        case "Escape":
          if (!listbox.hidden) {
            event.preventDefault();
            collapse();
          } else if (input.value) {
            event.preventDefault();
            input.value = "";
            clearChoice();
            search();
          }
          break;
        case "Tab":
          collapse();
          break;
        default:
          break;
      }
    });

    // A click on an option must not take the focus away from the field.
    listbox.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    listbox.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) {
        choose(options.indexOf(option));
        input.focus();
      }
    });
    input.addEventListener("blur", collapse);
  }

  /* ------------------------------------------------------------------ subdomain */

  function enhanceSlug(form) {
    var input = form.querySelector("input[name=slug]");
    var output = document.getElementById("slug-availability");
    var preview = document.getElementById("slug-preview");
    var url = form.getAttribute("data-slug-check-url");
    if (!input || !output || !url) {
      return;
    }
    var requestId = 0;
    var lastSlug = null;

    var check = debounce(function () {
      var slug = input.value.trim().toLowerCase();
      if (!slug) {
        lastSlug = null;
        output.textContent = "";
        output.className = "slug-availability";
        return;
      }
      if (slug === lastSlug) {
        return;
      }
      lastSlug = slug;
      var id = ++requestId;
      getJSON(url + "?slug=" + encodeURIComponent(slug))
        .then(function (data) {
          if (id !== requestId) {
            return;
          }
          output.textContent = data.message || "";
          output.className =
            "slug-availability " + (data.available ? "is-available" : "is-unavailable");
        })
        .catch(function () {
          lastSlug = null; // checked again when the form is sent
        });
    }, 400);

    input.addEventListener("input", function () {
      if (preview) {
        preview.textContent = input.value.trim().toLowerCase() || "…";
      }
      check();
    });
    check();
  }

  /* ------------------------------------------------------------------ progress */

  function followProgress(root) {
    var url = root.getAttribute("data-status-url");
    var state = root.getAttribute("data-state");
    var announcer = root.querySelector("[data-progress-announce]");
    if (!url || state !== "provisioning") {
      return;
    }
    var attempts = 0;

    function show(current) {
      var panels = root.querySelectorAll("[data-progress-panel]");
      Array.prototype.forEach.call(panels, function (panel) {
        panel.hidden = panel.getAttribute("data-progress-panel") !== current;
      });
    }

    function schedule() {
      attempts += 1;
      // Every 2 seconds for the first minute, then every 10 seconds.
      setTimeout(poll, attempts > 30 ? 10000 : 2000);
    }

    function poll() {
      getJSON(url)
        .then(function (data) {
          if (data.state && data.state !== state) {
            state = data.state;
            show(state);
            if (announcer) {
              announcer.textContent = data.message || "";
            }
          }
          if (state === "provisioning") {
            schedule();
          }
        })
        .catch(schedule);
    }

    schedule();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-signup-search]"), enhanceSearch);
    Array.prototype.forEach.call(document.querySelectorAll("[data-signup-form]"), enhanceSlug);
    Array.prototype.forEach.call(document.querySelectorAll("[data-signup-progress]"), followProgress);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
