// Email editor. Every <textarea data-rich-editor> becomes a rich-text editor (Quill, vendored)
// with a toolbar of labelled buttons; the textarea stays the form's field, kept in sync, with an
// `input` event on each change so that form posts and the htmx live preview see what is written.
// The formats are those an email keeps (bold, italic, links, lists, paragraphs): pasting from
// Gmail, Word or Docs keeps those and drops the rest. The server cleans the body again and says
// what it removed.
//
// Token buttons [data-token] insert at the caret of the last focused field (the subject, an
// editor). Other scripts put HTML in an editor by dispatching, on its textarea, a cancelable
// CustomEvent "outreach:insert" (at the caret) or "outreach:replace" (the whole body) with
// `detail.html`; the editor calls preventDefault() to say it handled it.
(function () {
  "use strict";
  var FORMATS = ["bold", "italic", "link", "list"];
  var BUTTONS = [
    { label: "Bold", shortcut: "Control+B", apply: toggle("bold") },
    { label: "Italic", shortcut: "Control+I", apply: toggle("italic") },
    { label: "Link", apply: link },
    { label: "Bulleted list", apply: list("bullet") },
    { label: "Numbered list", apply: list("ordered") },
  ];
  var editors = [];
  var last = null;
  var counter = 0;

  function toggle(format) {
    return function (quill, range) {
      quill.format(format, !quill.getFormat(range)[format], "user");
    };
  }

  function list(kind) {
    return function (quill, range) {
      var current = quill.getFormat(range).list;
      quill.format("list", current === kind ? false : kind, "user");
    };
  }

  function link(quill, range) {
    if (range.length && quill.getFormat(range).link) {
      quill.formatText(range.index, range.length, "link", false, "user");
      return;
    }
    var address = window.prompt("Link address (for example https://acme.example/jobs)");
    address = (address || "").trim();
    if (!address) { return; }
    if (!/^[a-z][a-z0-9+.-]*:/i.test(address)) {
      address = (address.indexOf("@") > 0 && address.indexOf("/") < 0 ? "mailto:" : "https://") + address;
    }
    if (range.length) {
      quill.formatText(range.index, range.length, "link", address, "user");
    } else {
      quill.insertText(range.index, address, "link", address, "user");
      quill.setSelection(range.index + address.length, 0, "user");
    }
  }

  // Quill 2.0.3 writes every space as &nbsp; in its semantic HTML, which would keep a paragraph
  // from wrapping in the recipient's mail client. A typed no-break space stays a character, so
  // this undoes exactly that.
  function html(quill) {
    if (!quill.getText().trim()) { return ""; }
    return quill.getSemanticHTML().replace(/&nbsp;/g, " ");
  }

  function toolbar(quill, labelText) {
    var bar = document.createElement("div");
    bar.className = "editor-toolbar";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", "Formatting" + (labelText ? " of " + labelText : ""));
    BUTTONS.forEach(function (spec) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = spec.label;
      button.setAttribute("aria-pressed", "false");
      if (spec.shortcut) { button.setAttribute("aria-keyshortcuts", spec.shortcut); }
      // The caret stays in the text when the button is clicked.
      button.addEventListener("mousedown", function (event) { event.preventDefault(); });
      button.addEventListener("click", function () {
        spec.apply(quill, quill.getSelection(true));
        pressed();
      });
      bar.appendChild(button);
    });
    function pressed() {
      var range = quill.getSelection();
      var formats = range ? quill.getFormat(range) : {};
      var states = [formats.bold, formats.italic, formats.link, formats.list === "bullet", formats.list === "ordered"];
      Array.prototype.forEach.call(bar.children, function (button, index) {
        button.setAttribute("aria-pressed", states[index] ? "true" : "false");
      });
    }
    quill.on("editor-change", pressed);
    return bar;
  }

  function upgrade(textarea) {
    if (textarea.dataset.richEditorReady || !window.Quill) { return; }
    textarea.dataset.richEditorReady = "1";
    var label = textarea.id ? document.querySelector('label[for="' + textarea.id + '"]') : null;
    var wrapper = document.createElement("div");
    wrapper.className = "rich-editor";
    var box = document.createElement("div");
    wrapper.appendChild(box);
    textarea.after(wrapper);
    var quill = new window.Quill(box, {
      formats: FORMATS,
      modules: {
        // Tab leaves the editor, as in any form field, instead of typing a tab or indenting.
        keyboard: { bindings: { tab: null, indent: null, outdent: null } },
      },
    });
    wrapper.insertBefore(toolbar(quill, label ? label.textContent.trim().replace(/:$/, "") : ""), box);
    textarea.hidden = true;
    quill.setContents(quill.clipboard.convert({ html: textarea.value }), "silent");
    quill.history.clear();
    var root = quill.root;
    root.setAttribute("role", "textbox");
    root.setAttribute("aria-multiline", "true");
    if (label) {
      // The label names the editor now; the hidden textarea is only the field that is posted.
      label.id = label.id || "rich-editor-label-" + (++counter);
      label.removeAttribute("for");
      root.setAttribute("aria-labelledby", label.id);
      label.addEventListener("click", function () { quill.focus(); });
    }
    var described = textarea.getAttribute("aria-describedby");
    if (described) { root.setAttribute("aria-describedby", described); }
    if (textarea.getAttribute("aria-invalid")) { root.setAttribute("aria-invalid", textarea.getAttribute("aria-invalid")); }
    quill.on("text-change", function () {
      textarea.value = html(quill);
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    });
    textarea.addEventListener("outreach:insert", function (event) {
      event.preventDefault();
      insertHTML(quill, (event.detail && event.detail.html) || "");
    });
    textarea.addEventListener("outreach:replace", function (event) {
      event.preventDefault();
      quill.setContents(quill.clipboard.convert({ html: (event.detail && event.detail.html) || "" }), "user");
    });
    editors.push({ textarea: textarea, quill: quill });
  }

  function insertHTML(quill, markup) {
    var range = quill.getSelection(true);
    var index = range.index;
    // Paragraphs inserted after the text of a line start a paragraph of their own, as the writer
    // means by a snippet of paragraphs; pasted as is, the first would join the line it lands on.
    if (/^\s*<(p|ul|ol|div)[\s>]/i.test(markup) && index > 0 && quill.getText(index - 1, 1) !== "\n") {
      quill.insertText(index, "\n", "user");
      index += 1;
    }
    var before = quill.getLength();
    quill.clipboard.dangerouslyPasteHTML(index, markup, "user");
    quill.setSelection(index + quill.getLength() - before, 0, "user");
  }

  function editorFor(element) {
    for (var i = 0; i < editors.length; i++) {
      if (editors[i].textarea === element || editors[i].quill.root === element) { return editors[i]; }
    }
    return null;
  }

  function upgradeAll(scope) {
    Array.prototype.forEach.call(scope.querySelectorAll("textarea[data-rich-editor]"), upgrade);
  }

  document.addEventListener("focusin", function (event) {
    if (event.target.matches("[data-token-target]")) { last = event.target; return; }
    var root = event.target.closest && event.target.closest(".ql-editor");
    if (root && editorFor(root)) { last = root; }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-token]");
    if (!button) { return; }
    event.preventDefault();
    var field = last || document.querySelector("[data-token-target]");
    if (!field) { return; }
    var token = button.getAttribute("data-token");
    var editor = editorFor(field);
    if (editor) {
      var range = editor.quill.getSelection(true);
      editor.quill.insertText(range.index, token, "user");
      editor.quill.setSelection(range.index + token.length, 0, "user");
      return;
    }
    var start = field.selectionStart || 0;
    var end = field.selectionEnd || 0;
    field.value = field.value.slice(0, start) + token + field.value.slice(end);
    field.focus();
    field.setSelectionRange(start + token.length, start + token.length);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // Deferred: the page is parsed when this runs. htmx may bring more forms later.
  upgradeAll(document);
  document.addEventListener("htmx:load", function (event) { upgradeAll(event.target); });
})();
