/// The pages' one stylesheet, inlined into each page (no external asset): readable offline, printable.
enum PageStyle {
    static let css = """
        :root { --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #57606a; --line: #d0d7de; --bg: #f6f8fa; }
        * { box-sizing: border-box; }
        body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; margin: 0 auto; max-width: 1120px; padding: 24px; }
        h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
        .verdict { border-radius: 8px; padding: 16px 20px; color: #fff; }
        .verdict.passed { background: var(--ok); } .verdict.failed { background: var(--bad); } .verdict.aborted { background: var(--warn); }
        .verdict p { margin: 4px 0 0; } .verdict .sub { opacity: .9; font-size: 13px; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
        dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; word-break: break-all; }
        table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: var(--bg); font-weight: 600; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        td.ev { white-space: pre-wrap; word-break: break-word; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
        .fix { color: var(--bad); font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin-top: 4px; }
        .st { font-weight: 600; white-space: nowrap; } tr.passed .st { color: var(--ok); } tr.failed .st, tr.timed_out .st { color: var(--bad); } tr.skipped .st { color: var(--muted); }
        .meter { height: 14px; background: var(--bg); border: 1px solid var(--line); border-radius: 7px; overflow: hidden; max-width: 520px; }
        .meter > div { height: 100%; background: var(--ok); } .meter.over > div { background: var(--bad); }
        svg { max-width: 100%; height: auto; font: 11px -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
        svg .bar.done { fill: #54aeff; } svg .bar.failed { fill: var(--bad); } svg .bar.aborted { fill: var(--warn); } svg .bar.db { fill: #8250df; }
        svg .bar.db.failed { fill: var(--bad); } svg .axis { stroke: var(--line); } svg .tick { fill: var(--muted); }
        svg .objective { stroke: var(--bad); stroke-dasharray: 6 4; } svg .trend { stroke: var(--warn); stroke-width: 2; }
        svg .pt.passed { fill: var(--ok); } svg .pt.failed, svg .pt.aborted { fill: var(--bad); } svg .spark { fill: none; stroke: #8250df; stroke-width: 1.5; }
        .filters { margin: 6px 0 8px; } .filters label { margin-right: 12px; cursor: pointer; }
        #f-failed:checked ~ table tr.check:not(.failed):not(.timed_out) { display: none; }
        #f-passed:checked ~ table tr.check:not(.passed) { display: none; }
        #f-skipped:checked ~ table tr.check:not(.skipped) { display: none; }
        .muted { color: var(--muted); } .note { color: var(--muted); font-size: 12px; }
        @media print { .filters { display: none; } body { padding: 0; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
        """
}
