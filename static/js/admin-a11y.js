"use strict";
// Names for the admin's Select2 comboboxes (autocomplete fields; WCAG 4.1.2),
// and no empty column headers in tabular inlines.
// Select2 draws its own combobox next to the hidden <select>: a single one is
// named only by its current value (nothing when empty; shown in a nameless
// read-only "textbox"), a multiple one's search
// box has no name at all, and its "clear" button sits directly in a <ul>.
// The name comes from the field's <label for>, else the select's aria-label
// (inline rows: set by the admin's inline formsets). Widgets added later (a new
// inline row, a re-rendered selection) are handled as they appear.
{
    const labelFor = (select) => select.id ? document.querySelector(`label[for="${CSS.escape(select.id)}"]`) : null;

    const nameOf = (select) => {
        const label = labelFor(select);
        const text = select.getAttribute("aria-label") || (label ? label.textContent : "");
        return text.replace(/[:\s]+$/, "").trim();
    };

    const fix = (container) => {
        const select = container.previousElementSibling;
        if (!select || select.tagName !== "SELECT") {
            return;
        }
        const name = nameOf(select);
        const selection = container.querySelector(".select2-selection");
        if (!selection || !name) {
            return;
        }
        const rendered = selection.querySelector(".select2-selection__rendered");
        if (selection.classList.contains("select2-selection--single")) {
            // The value's text is part of the combobox, not a nameless read-only textbox of its own.
            if (rendered) {
                rendered.removeAttribute("role");
                rendered.removeAttribute("aria-readonly");
            }
            const label = labelFor(select);
            if (label && rendered && rendered.id) {
                // Named by its label and then its value: "Follows: <agreement>".
                if (!label.id) {
                    label.id = `${select.id}_label`;
                }
                selection.setAttribute("aria-labelledby", `${label.id} ${rendered.id}`);
            } else {
                selection.removeAttribute("aria-labelledby");
                selection.setAttribute("aria-label", name);
                if (rendered && rendered.id) {
                    selection.setAttribute("aria-describedby", rendered.id);
                }
            }
        } else {
            selection.setAttribute("aria-label", name);
            const search = selection.querySelector(".select2-search__field");
            if (search) {
                search.setAttribute("aria-label", name);
            }
            // Only list items belong in the list: the "clear all" control goes before it
            // (Select2 draws a new one inside the list on every change: the old one goes).
            const clear = rendered ? rendered.querySelector(":scope > .select2-selection__clear") : null;
            if (clear || (rendered && !rendered.querySelector(".select2-selection__choice"))) {
                selection.querySelectorAll(":scope > .select2-selection__clear").forEach((old) => old.remove());
            }
            if (clear) {
                selection.insertBefore(clear, rendered);
            }
        }
    };

    const fixAll = () => document.querySelectorAll(".select2-container").forEach(fix);

    // Tabular inlines head their first column (each row's record and hidden ids)
    // and, without a delete permission, their last one with an empty <th>: a
    // header cell that names nothing is a plain cell.
    const plainEmptyHeaders = () => {
        document.querySelectorAll(".tabular thead th").forEach((header) => {
            if (!header.textContent.trim() && !header.querySelector("img, svg, input")) {
                const cell = document.createElement("td");
                cell.className = header.className;
                header.replaceWith(cell);
            }
        });
    };

    let pending = false;
    const observer = new MutationObserver(() => {
        if (!pending) {
            pending = true;
            // Once per batch of changes; our own changes settle within one pass.
            window.requestAnimationFrame(() => {
                pending = false;
                observer.disconnect();
                fixAll();
                observer.observe(document.body, {childList: true, subtree: true});
            });
        }
    });

    const start = () => {
        plainEmptyHeaders();
        fixAll();
        observer.observe(document.body, {childList: true, subtree: true});
    };
    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}
