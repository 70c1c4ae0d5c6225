// The library in the stage editor and the compose page: "Use template" fills the subject and
// the body (and notes which template, for its usage count); a snippet goes in where the caret
// was in the body. A rich-text editor on the body handles `outreach:insert` and
// `outreach:replace` itself and cancels them; without one, the plain textarea is changed here.
(function () {
  "use strict";
  var typedIn = new WeakSet();
  document.addEventListener("focusin", function (event) {
    if (event.target instanceof HTMLTextAreaElement) { typedIn.add(event.target); }
  });

  function bodyOf(form) {
    return form.querySelector("textarea[data-rich-editor]") ||
      form.querySelector("textarea[name=body_html]");
  }

  function changed(field) {
    // The live preview listens for input.
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function unhandled(body, name, html) {
    return body.dispatchEvent(
      new CustomEvent(name, { detail: { html: html }, cancelable: true, bubbles: true })
    );
  }

  function insert(body, html) {
    if (!unhandled(body, "outreach:insert", html)) { return; }
    // Never focused: the caret is nowhere, so the snippet goes at the end.
    var start = typedIn.has(body) ? body.selectionStart : body.value.length;
    var end = typedIn.has(body) ? body.selectionEnd : body.value.length;
    body.value = body.value.slice(0, start) + html + body.value.slice(end);
    body.focus();
    body.setSelectionRange(start + html.length, start + html.length);
    changed(body);
  }

  function replace(body, html) {
    if (!unhandled(body, "outreach:replace", html)) { return; }
    body.value = html;
    changed(body);
  }

  function load(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      });
  }

  document.addEventListener("click", function (event) {
    var use = event.target.closest("[data-library-use]");
    var snippet = event.target.closest("[data-snippet-url]");
    if (!use && !snippet) { return; }
    event.preventDefault();
    var picker = event.target.closest("[data-library]");
    var form = picker.closest("form");
    var status = picker.querySelector("[data-library-status]");
    var body = bodyOf(form);
    if (use) {
      load(picker.querySelector("[data-library-template]").value).then(function (template) {
        var subject = form.querySelector("input[name=subject]");
        // A follow-up's template has no subject: the one written stays.
        if (subject && template.subject) { subject.value = template.subject; changed(subject); }
        replace(body, template.body_html);
        var chosen = form.querySelector("input[name=template]");
        if (chosen) { chosen.value = template.id; }
        status.textContent = "\u201c" + template.name + "\u201d loaded. Nothing is saved until you save.";
      }).catch(function () {
        status.textContent = "The template could not be loaded. Try again.";
      });
    } else {
      load(snippet.getAttribute("data-snippet-url")).then(function (found) {
        var menu = snippet.closest("details");
        if (menu) { menu.open = false; }
        insert(body, found.body_html);
        status.textContent = "\u201c" + found.name + "\u201d inserted.";
      }).catch(function () {
        status.textContent = "The snippet could not be loaded. Try again.";
      });
    }
  });
})();
