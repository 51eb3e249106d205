// The report page's suspect table (sort, filter, pages) and its start: reads
// the embedded data, draws the charts (charts.js), then the table. Plain
// browser JavaScript, no modules and no network.
'use strict'
;(function () {
  const { charts, SUBSETS, pct } = window.manReport
  const PAGE_SIZE = 50

  function readJson(id) {
    return JSON.parse(document.getElementById(id).textContent)
  }

  async function inflate(base64) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))
    return JSON.parse(await new Response(stream).text())
  }

  /**
   * Times noisy, first noisy epoch and noisy share, counted from the history
   * strings as the report's server side counts them (docs/report.md): epoch k
   * of K co-division epochs weighs k, ambiguous counts half.
   */
  function deriveFromHistory(model, s) {
    const n = s.names.length
    const epochs = model.historyEpochs
    const weights = epochs.reduce((sum, _, k) => sum + k + 1, 0)
    s.timesNoisy = new Uint16Array(n)
    s.firstNoisy = new Uint16Array(n)
    s.noisyShare = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const h = s.history[i]
      let share = 0
      for (let k = 0; k < h.length; k++) {
        if (h[k] === '2') {
          s.timesNoisy[i]++
          if (s.firstNoisy[i] === 0) s.firstNoisy[i] = epochs[k]
          share += k + 1
        } else if (h[k] === '1') share += (k + 1) / 2
      }
      s.noisyShare[i] = weights === 0 ? 0 : share / weights
    }
  }

  function suspectTable(model, s, thumbs) {
    const names = model.classNames
    const n = s.names.length
    deriveFromHistory(model, s)
    const truth = s.trueLabel !== null
    const text = (f) => ({ kind: 'text', get: f })
    const num = (f, fmt) => ({ kind: 'num', get: f, fmt })
    const columns = [
      { key: 'rank', label: 'rank', ...num((i) => s.rank[i], String) },
      { key: 'image', label: 'image', kind: 'image' },
      { key: 'path', label: 'file', ...text((i) => s.names[i]) },
      { key: 'given_label', label: 'given_label', ...text((i) => names[s.given[i]]) },
      { key: 'predicted_label', label: 'predicted_label', ...text((i) => names[s.predicted[i]]) },
      { key: 'predicted_probability', label: 'p(predicted)', ...num((i) => s.predictedProb[i], pct) },
      { key: 'given_label_probability', label: 'p(given)', ...num((i) => s.givenProb[i], pct) },
      { key: 'label_score', label: 'label_score', ...num((i) => s.score[i], (v) => v.toFixed(3)) },
      { key: 'is_label_issue', label: 'is_label_issue', ...text((i) => (s.issue[i] ? 'yes' : 'no')) },
      { key: 'times_noisy', label: 'times noisy', ...num((i) => s.timesNoisy[i], String) },
      { key: 'first_noisy_epoch', label: 'first noisy', ...num((i) => s.firstNoisy[i] || Infinity, (v) => (v === Infinity ? '–' : String(v))) },
      { key: 'f1_prediction', label: 'f1', ...text((i) => names[s.f1[i]]) },
      { key: 'f2_prediction', label: 'f2', ...text((i) => names[s.f2[i]]) },
      { key: 'partition_history', label: 'history', kind: 'history', get: (i) => s.noisyShare[i] },
      ...(truth
        ? [
            { key: 'is_flipped', label: 'flipped', ...text((i) => (s.trueLabel[i] !== s.given[i] ? 'yes' : 'no')) },
            { key: 'true_label', label: 'true label', ...text((i) => names[s.trueLabel[i]]) },
          ]
        : []),
    ]
    const table = document.getElementById('suspect-table')
    const givenSel = document.getElementById('filter-given')
    const predSel = document.getElementById('filter-predicted')
    const issueBox = document.getElementById('filter-issue')
    const flippedBox = document.getElementById('filter-flipped')
    for (const sel of [givenSel, predSel]) names.forEach((name, c) => sel.append(new Option(name, String(c))))

    let sortKey = 'rank'
    let sortDir = 1
    let page = 0
    let rows = new Uint32Array(0)

    const headRow = document.createElement('tr')
    const ths = columns.map((col) => {
      const th = document.createElement('th')
      th.textContent = col.label
      th.dataset.key = col.key
      if (col.kind !== 'image') {
        th.className = 'sortable'
        th.setAttribute('aria-sort', 'none')
        th.addEventListener('click', () => {
          sortDir = sortKey === col.key ? -sortDir : 1
          sortKey = col.key
          page = 0
          refresh()
        })
      }
      headRow.append(th)
      return th
    })
    table.tHead.append(headRow)

    function refresh() {
      const g = givenSel.value === '' ? -1 : Number(givenSel.value)
      const p = predSel.value === '' ? -1 : Number(predSel.value)
      const onlyIssue = issueBox.checked
      const onlyFlipped = flippedBox !== null && flippedBox.checked
      const kept = []
      for (let i = 0; i < n; i++) {
        if (g >= 0 && s.given[i] !== g) continue
        if (p >= 0 && s.predicted[i] !== p) continue
        if (onlyIssue && !s.issue[i]) continue
        if (onlyFlipped && s.trueLabel[i] === s.given[i]) continue
        kept.push(i)
      }
      const col = columns.find((c) => c.key === sortKey)
      const key = kept.map((i) => col.get(i))
      const order = kept.map((_, j) => j)
      const cmp = col.kind === 'text' ? (a, b) => String(key[a]).localeCompare(String(key[b])) : (a, b) => key[a] - key[b]
      order.sort((a, b) => sortDir * cmp(a, b) || s.rank[kept[a]] - s.rank[kept[b]])
      rows = Uint32Array.from(order, (j) => kept[j])
      const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE))
      page = Math.min(page, pages - 1)
      ths.forEach((th) => {
        if (th.classList.contains('sortable')) {
          th.setAttribute('aria-sort', th.dataset.key === sortKey ? (sortDir > 0 ? 'ascending' : 'descending') : 'none')
        }
      })
      renderBody()
      document.getElementById('table-count').textContent =
        `${rows.length} of ${n} images` + (s.total > n ? ` (the ${n} most suspect of ${s.total}; the CSV lists all)` : '')
      document.getElementById('page').textContent = `page ${page + 1} of ${pages}`
      document.getElementById('prev').disabled = page === 0
      document.getElementById('next').disabled = page >= pages - 1
      table.dataset.rows = String(rows.length)
    }

    function cell(col, i) {
      const td = document.createElement('td')
      td.dataset.key = col.key
      if (col.kind === 'image') {
        const uri = thumbs[i]
        if (uri !== undefined) {
          const img = document.createElement('img')
          img.src = uri
          img.alt = s.names[i]
          img.loading = 'lazy'
          td.append(img)
        }
      } else if (col.kind === 'history') {
        const strip = document.createElement('span')
        strip.className = 'strip'
        strip.title = s.history[i]
          .split('')
          .map((c, k) => `epoch ${model.historyEpochs[k]}: ${SUBSETS[Number(c)]}`)
          .join('\n')
        for (const c of s.history[i]) {
          const h = document.createElement('span')
          h.className = `h h${c}`
          strip.append(h)
        }
        td.append(strip)
      } else {
        const v = col.get(i)
        td.textContent = col.kind === 'num' ? col.fmt(v) : v
        if (col.kind === 'num') td.className = 'num'
        td.dataset.value = String(v)
      }
      return td
    }

    function renderBody() {
      const body = document.createElement('tbody')
      for (const i of rows.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)) {
        const tr = document.createElement('tr')
        if (s.issue[i]) tr.className = 'issue'
        for (const col of columns) tr.append(cell(col, i))
        body.append(tr)
      }
      table.tBodies[0].replaceWith(body)
    }

    for (const el of [givenSel, predSel, issueBox, flippedBox]) {
      el?.addEventListener('change', () => {
        page = 0
        refresh()
      })
    }
    document.getElementById('prev').addEventListener('click', () => {
      page--
      refresh()
    })
    document.getElementById('next').addEventListener('click', () => {
      page++
      refresh()
    })
    refresh()
  }

  async function main() {
    const model = readJson('model')
    const thumbs = readJson('thumbs')
    charts.drawCurves(model)
    charts.drawFinal(model)
    charts.drawDetection(model)
    charts.drawPairs(model)
    const samples = await inflate(document.getElementById('samples').textContent.trim())
    suspectTable(model, samples, thumbs)
    document.body.dataset.ready = 'true'
  }

  main().catch((err) => {
    console.error(err)
    const p = document.createElement('p')
    p.className = 'error'
    p.textContent = `This report could not be drawn: ${err && err.message ? err.message : err}`
    document.body.prepend(p)
  })
})()
