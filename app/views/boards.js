// The saved boards' bar (app/views/boards.py): pick a board, make a new one, rename or
// delete the open one, share it read-only. One model per page. Every string is set as
// text or an attribute value: nothing here is ever parsed as HTML.

function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v)
  e.append(...kids)
  return e
}

export function render({ model, el }) {
  const nav = h("nav", {class: "photon-boards", "aria-label": "Boards"})
  const note = h("p", {class: "photon-board-note", role: "status"})
  el.append(nav)
  const showNote = () => { note.textContent = model.note; note.hidden = !model.note }
  if (model.mode !== "edit") {
    if (model.mode === "read") {  // another user's shared board
      note.removeAttribute("role")
      note.append("Read-only: board ", h("strong", {}, model.current), " of ",
                  h("strong", {}, model.owner))
    } else {
      showNote()
      model.on("note", showNote)
    }
    nav.append(note)
    return
  }
  const pick = h("select", {id: "photon-board-pick"})
  const name = h("input", {id: "photon-board-name", maxlength: "40", placeholder: "new name",
                           autocomplete: "off", spellcheck: "false"})
  const share = h("input", {type: "checkbox", id: "photon-board-shared"})
  const link = h("a", {class: "photon-share"})
  const button = (text, type) => {
    const b = h("button", {type: "button", class: `photon-board-${type}`}, text)
    b.addEventListener("click", () => model.send_msg({type, name: name.value}))
    return b
  }
  // Delete asks twice: the first click turns the button into "Really delete?" a while.
  const del = h("button", {type: "button", class: "photon-board-delete"}, "Delete")
  let armed = null
  del.addEventListener("click", () => {
    if (armed) {
      clearTimeout(armed); armed = null; del.textContent = "Delete"
      model.send_msg({type: "delete"})
    } else {
      del.textContent = "Really delete?"
      armed = setTimeout(() => { armed = null; del.textContent = "Delete" }, 4000)
    }
  })
  nav.append(
    h("span", {class: "photon-board-field"}, h("label", {for: pick.id}, "Board"), pick),
    h("span", {class: "photon-board-field"}, h("label", {for: name.id}, "Name"), name),
    button("New", "create"), button("Rename", "rename"), del,
    h("span", {class: "photon-board-field"}, share,
      h("label", {for: share.id}, "Shared (read-only link)")),
    link, note)

  function options() {
    pick.replaceChildren(...model.names.map((n) => {
      const o = h("option", {value: n}, n)
      o.selected = n === model.current
      return o
    }))
  }
  function shared() {
    share.checked = model.shared
    link.textContent = model.link
    link.hidden = !model.link
    if (model.link) link.setAttribute("href", model.link)
    else link.removeAttribute("href")
  }
  options()
  shared()
  showNote()
  pick.addEventListener("change", () => model.send_msg({type: "open", name: pick.value}))
  share.addEventListener("change", () => model.send_msg({type: "share", on: share.checked}))
  name.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") model.send_msg({type: "create", name: name.value})
  })
  model.on("names", options)
  model.on("current", options)
  model.on("shared", shared)
  model.on("link", shared)
  model.on("note", showNote)
  // Another board: the page loads again (its theme may differ), once the server has
  // saved this one.
  model.on("msg:custom", (msg) => { if (msg.go) window.location.assign(msg.go) })
}
