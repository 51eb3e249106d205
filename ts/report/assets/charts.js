// The report page's charts, drawn with Observable Plot (inlined before this
// script as the globals Plot and d3). Exposes window.manReport.charts; the
// table script draws them once the page's data is read.
'use strict'
;(function () {
  const COLORS = { clean: '#43a047', ambiguous: '#fb8c00', noisy: '#e53935' }
  const SUBSETS = ['clean', 'ambiguous', 'noisy']
  const pct = d3.format('.1%')

  function box(name) {
    return document.querySelector(`[data-chart="${name}"]`)
  }

  function put(name, element) {
    const el = box(name)
    el.replaceChildren(element)
    el.dataset.rendered = 'true'
  }

  function empty(name, why) {
    const el = box(name)
    const p = document.createElement('p')
    p.className = 'note'
    p.textContent = why
    el.replaceChildren(p)
    el.dataset.rendered = 'empty'
  }

  function width(name) {
    return Math.max(320, Math.floor(box(name).clientWidth || 480))
  }

  function epochAxis(model) {
    const n = model.epochs.length
    const domain = [model.epochs[0].epoch, model.epochs[n - 1].epoch]
    return { label: 'epoch', tickFormat: 'd', domain, ticks: n <= 16 ? model.epochs.map((e) => e.epoch) : undefined }
  }

  /** The dashed line where co-division takes over from warm-up. */
  function marker(model) {
    if (model.coDivisionStart === null) return []
    const at = [model.coDivisionStart]
    return [
      Plot.ruleX(at, { stroke: '#777', strokeDasharray: '4,3' }),
      Plot.text(at, { x: (d) => d, frameAnchor: 'top', text: () => 'co-division starts', textAnchor: 'start', dx: 4, dy: 4, fill: '#555' }),
    ]
  }

  function lines(name, model, data, y, margins = {}) {
    const series = [...new Set(data.map((d) => d.series))]
    put(
      name,
      Plot.plot({
        width: width(name),
        height: 260,
        ...margins,
        x: epochAxis(model),
        y: { grid: true, ...y },
        color: { legend: series.length > 1, domain: series },
        marks: [
          ...marker(model),
          Plot.lineY(data, { x: 'epoch', y: 'value', stroke: 'series', tip: true }),
          Plot.dot(data, { x: 'epoch', y: 'value', fill: 'series', r: 2 }),
        ],
      }),
    )
  }

  function drawCurves(model) {
    const acc = model.epochs.flatMap((e) => [
      { epoch: e.epoch, series: 'f1', value: e.acc1 },
      { epoch: e.epoch, series: 'f2', value: e.acc2 },
      { epoch: e.epoch, series: 'ensemble', value: e.acc },
      ...(e.valAcc === null ? [] : [{ epoch: e.epoch, series: 'ensemble (validation)', value: e.valAcc }]),
    ])
    lines('accuracy', model, acc, { domain: [0, 1], tickFormat: '%', label: 'accuracy' })

    const loss = model.epochs.flatMap((e) => [
      { epoch: e.epoch, series: 'total', value: e.loss.total },
      { epoch: e.epoch, series: 'Lc (clean)', value: e.loss.clean },
      { epoch: e.epoch, series: 'La (ambiguous)', value: e.loss.ambiguous },
      { epoch: e.epoch, series: 'Ln (noisy)', value: e.loss.noisy },
    ])
    lines('loss', model, loss, { label: 'loss', zero: true })

    const parts = model.epochs
      .filter((e) => e.partition !== null)
      .flatMap((e) => SUBSETS.map((s) => ({ epoch: e.epoch, subset: s, count: e.partition[s] })))
    if (parts.length === 0) empty('partition', 'No co-division epoch in this run (warm-up only, or the cross-entropy baseline).')
    else {
      const color = { domain: SUBSETS, range: SUBSETS.map((s) => COLORS[s]), legend: true }
      const single = parts.length === SUBSETS.length
      put(
        'partition',
        Plot.plot({
          width: width('partition'),
          height: 260,
          x: single ? { label: 'epoch', type: 'band' } : epochAxis(model),
          y: { grid: true, label: 'training images' },
          color,
          marks: [
            ...(single ? [] : marker(model)),
            single
              ? Plot.barY(parts, { x: 'epoch', y: 'count', fill: 'subset', order: SUBSETS, tip: true })
              : Plot.areaY(parts, { x: 'epoch', y: 'count', fill: 'subset', order: SUBSETS, tip: true }),
          ],
        }),
      )
    }

    const lambda = model.epochs.filter((e) => e.lambda !== null).map((e) => ({ epoch: e.epoch, series: 'λ', value: e.lambda }))
    if (lambda.length === 0) empty('lambda', 'λ is used only in co-division epochs; this run has none.')
    else lines('lambda', model, lambda, { label: 'λ', domain: [0, 1] })

    const lr = model.epochs.map((e) => ({ epoch: e.epoch, series: 'learning rate', value: e.lr }))
    lines('lr', model, lr, { label: 'learning rate', tickFormat: '.1e', zero: true }, { marginLeft: 60 })
  }

  function heatmap(name, cells, classNames, opts) {
    put(
      name,
      Plot.plot({
        width: Math.min(width(name), 140 + 56 * classNames.length),
        height: 70 + 34 * classNames.length,
        marginLeft: 90,
        marginBottom: 60,
        padding: 0.04,
        x: { domain: classNames, label: opts.x, tickRotate: -30 },
        y: { domain: classNames, label: opts.y },
        color: { scheme: 'blues', domain: [0, 1], legend: true, label: opts.colorLabel, tickFormat: '%' },
        marks: [
          Plot.cell(cells, { x: 'x', y: 'y', fill: 'share', tip: true, title: (d) => `${d.y} → ${d.x}: ${d.count}` }),
          Plot.text(cells, { x: 'x', y: 'y', text: (d) => (d.count === 0 ? '' : String(d.count)), fill: (d) => (d.share > 0.55 ? 'white' : 'black') }),
        ],
      }),
    )
  }

  function drawFinal(model) {
    const names = model.classNames
    const cells = []
    const perClass = []
    model.confusion.forEach((row, t) => {
      const total = row.reduce((a, b) => a + b, 0)
      row.forEach((count, p) => cells.push({ y: names[t], x: names[p], count, share: total === 0 ? 0 : count / total }))
      perClass.push({ name: names[t], accuracy: total === 0 ? 0 : row[t] / total, total })
    })
    heatmap('confusion', cells, names, { x: 'predicted', y: 'true', colorLabel: 'share of the true class' })
    put(
      'class-accuracy',
      Plot.plot({
        width: width('class-accuracy'),
        height: 60 + 30 * names.length,
        marginLeft: 90,
        marginRight: 50,
        x: { domain: [0, 1], tickFormat: '%', grid: true, label: 'accuracy' },
        y: { domain: names, label: null },
        marks: [
          Plot.barX(perClass, { y: 'name', x: 'accuracy', fill: '#4a7bd0', tip: true, title: (d) => `${d.name}: ${pct(d.accuracy)} of ${d.total}` }),
          Plot.text(perClass, { y: 'name', x: 'accuracy', text: (d) => pct(d.accuracy), textAnchor: 'start', dx: 4 }),
        ],
      }),
    )
  }

  function drawDetection(model) {
    const d = model.detection
    if (d === null) return
    const t = d.topK
    document.getElementById('topk').textContent =
      `The ${t.k} most suspect images (as many as there are flipped labels) hold ${t.hits} flipped labels: precision ${pct(t.precision)}, ` +
      `against a base rate of ${pct(t.baseRate)} (a random pick of ${t.k}).` +
      (d.topN === null ? '' : ` Among the ${d.topN.k} shown with thumbnails: ${pct(d.topN.precision)}.`)
    const perEpoch = model.epochs
      .filter((e) => e.precision !== null)
      .flatMap((e) => [
        { epoch: e.epoch, series: 'precision', value: e.precision },
        { epoch: e.epoch, series: 'recall', value: e.recall },
      ])
    if (perEpoch.length === 0) empty('detection', 'No co-division epoch to score.')
    else {
      put(
        'detection',
        Plot.plot({
          width: width('detection'),
          height: 260,
          x: epochAxis(model),
          y: { domain: [0, 1], tickFormat: '%', grid: true, label: 'share' },
          color: { legend: true },
          marks: [
            ...marker(model),
            Plot.ruleY([d.baseRate], { stroke: '#999', strokeDasharray: '2,3' }),
            Plot.lineY(perEpoch, { x: 'epoch', y: 'value', stroke: 'series', tip: true }),
            Plot.dot(perEpoch, { x: 'epoch', y: 'value', fill: 'series', r: 2 }),
          ],
        }),
      )
    }
    const cells = d.byClass.filter((c) => c.value !== null)
    if (cells.length === 0) empty('detection-class', 'No co-division epoch to score.')
    else {
      const epochs = [...new Set(cells.map((c) => c.epoch))]
      put(
        'detection-class',
        Plot.plot({
          width: width('detection-class'),
          height: 80 + 28 * model.classNames.length,
          marginLeft: 90,
          x: { label: 'epoch', type: 'band', tickFormat: 'd', ticks: epochs.length <= 12 ? epochs : epochs.filter((_, i) => i % Math.ceil(epochs.length / 12) === 0) },
          y: { domain: model.classNames, label: 'given label' },
          fx: { label: null },
          color: { scheme: 'ylgnbu', domain: [0, 1], legend: true, tickFormat: '%', label: 'precision, recall' },
          marks: [Plot.cell(cells, { x: 'epoch', y: 'label', fx: 'metric', fill: 'value', tip: true })],
        }),
      )
    }
  }

  function drawPairs(model) {
    const names = model.classNames
    const cells = []
    const list = []
    const flagged = model.pairs.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0)
    model.pairs.forEach((row, g) => {
      const total = row.reduce((a, b) => a + b, 0)
      row.forEach((count, p) => {
        cells.push({ y: names[g], x: names[p], count, share: total === 0 ? 0 : count / total })
        if (count > 0 && g !== p) list.push({ given: names[g], predicted: names[p], count })
      })
    })
    if (flagged === 0) empty('pairs', 'No image is flagged (is_label_issue) in this run.')
    else heatmap('pairs', cells, names, { x: 'predicted', y: 'given', colorLabel: 'share of the flagged images of the given class' })
    list.sort((a, b) => b.count - a.count)
    const host = document.getElementById('pair-list')
    const h = document.createElement('h3')
    h.textContent = 'Most frequent moves'
    const ol = document.createElement('ol')
    for (const item of list.slice(0, 10)) {
      const li = document.createElement('li')
      li.textContent = `${item.given} → ${item.predicted}: ${item.count}`
      ol.append(li)
    }
    host.replaceChildren(h, list.length > 0 ? ol : Object.assign(document.createElement('p'), { textContent: 'none' }))
  }

  window.manReport = { ...window.manReport, charts: { drawCurves, drawFinal, drawDetection, drawPairs }, SUBSETS, pct }
})()
