"use strict";
// Names for the admin's Select2 comboboxes (autocomplete fields; WCAG 4.1.2),
// no empty column headers in tabular inlines, named filter boxes of the
// two-list selects, and wide tables that scroll in a named, focusable region.
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

    // The two-list select (filter_horizontal: groups, permissions) labels its filter
    // boxes with an icon whose aria-label a plain <span> may not carry (ARIA 1.2):
    // as an image it names the box ("Type into this box to filter …").
    const namedFilterIcons = () => {
        document.querySelectorAll(".help-tooltip[aria-label]:not([role])").forEach((icon) => {
            icon.setAttribute("role", "img");
        });
    };

    // Wide tables (changelist results, tabular inlines, change history) scroll
    // sideways inside their box at narrow widths (WCAG 1.4.10 allows it for data
    // tables): the box is a region named after what it holds, and while it
    // scrolls it takes the keyboard focus, so it can be scrolled without a mouse.
    const heading = () => document.querySelector("#content > h1, #content h1");
    const scrollBoxes = () => {
        const boxes = [];
        document.querySelectorAll("#changelist-form .results").forEach((box) => {
            const title = heading();
            boxes.push([box, title ? title.textContent : ""]);
        });
        document.querySelectorAll(".inline-related.tabular div.wrapper").forEach((box) => {
            const fieldset = box.closest("fieldset[aria-labelledby]");
            const title = fieldset ? document.getElementById(fieldset.getAttribute("aria-labelledby")) : null;
            boxes.push([box, title ? title.textContent : ""]);
        });
        document.querySelectorAll("table#change-history").forEach((table) => {
            let box = table.parentElement;
            if (!box.classList.contains("registry-scroll")) {
                box = document.createElement("div");
                box.className = "registry-scroll";
                table.replaceWith(box);
                box.appendChild(table);
            }
            const title = heading();
            boxes.push([box, title ? title.textContent : ""]);
        });
        return boxes;
    };
    const labelScrollBoxes = () => {
        for (const [box, name] of scrollBoxes()) {
            if (!box.hasAttribute("role") && name.trim()) {
                box.setAttribute("role", "region");
                box.setAttribute("aria-label", name.replace(/\s+/g, " ").trim());
            }
            if (box.scrollWidth > box.clientWidth) {
                box.setAttribute("tabindex", "0");
            } else {
                box.removeAttribute("tabindex");
            }
        }
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
                namedFilterIcons();
                labelScrollBoxes();
                observer.observe(document.body, {childList: true, subtree: true});
            });
        }
    });

    const start = () => {
        plainEmptyHeaders();
        fixAll();
        namedFilterIcons();
        labelScrollBoxes();
        window.addEventListener("resize", labelScrollBoxes);
        window.addEventListener("load", labelScrollBoxes);
        observer.observe(document.body, {childList: true, subtree: true});
    };
    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}
