import Mustache

/// The pages' Mustache templates. Report values are only ever written with `{{…}}` (escaped); the one
/// unescaped insertion is the stylesheet, a constant of this module, spliced in before parsing.
enum Templates {
    static func drill() throws -> MustacheTemplate { try MustacheTemplate(string: page(drillBody)) }
    static func history() throws -> MustacheTemplate { try MustacheTemplate(string: page(historyBody)) }

    static func page(_ body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}}</title><style>
        """ + PageStyle.css + "\n</style></head><body>\n" + body + "\n<footer class=\"note\">{{generated}}</footer>\n</body></html>\n"
    }

    static let drillBody = """
        <header class="verdict {{verdictClass}}"><h1 id="verdict">Restore drill {{verdict}}</h1>
        <p id="lastline">{{lastLine}}</p><p class="sub">{{subtitle}}</p></header>

        <h2>Recovery time</h2>
        <p id="rto">{{rto}} against the {{rtoBudget}} objective</p>
        {{#rtoKnown}}<div class="meter{{#rtoOver}} over{{/rtoOver}}"><div style="width: {{rtoPercent}}%"></div></div>{{/rtoKnown}}
        <p class="note" id="rpo">Recovery point: {{recoveryPoint}}.</p>

        <h2>Timeline</h2>
        <svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{{timeline.width}}" height="{{timeline.height}}" viewBox="0 0 {{timeline.width}} {{timeline.height}}" role="img" aria-label="stage timeline">
        {{#timeline.bars}}<g class="row"><text x="0" y="{{textY}}">{{label}}</text><rect class="bar {{status}} {{kind}}" data-stage="{{label}}" x="{{x}}" y="{{y}}" width="{{width}}" height="12" rx="2"><title>{{tip}}</title></rect></g>
        {{/timeline.bars}}<line class="axis" x1="{{timeline.chartLeft}}" x2="{{timeline.chartRight}}" y1="{{timeline.axisY}}" y2="{{timeline.axisY}}"></line>
        {{#timeline.ticks}}<text class="tick" x="{{x}}" y="{{timeline.height}}" dy="-4" text-anchor="middle">{{label}}</text>
        {{/timeline.ticks}}</svg>
        <p class="note">Blue: pipeline stages; purple: each database's restore. Bars side by side in time ran concurrently.</p>

        <h2>Checks</h2>
        <section id="checks" class="filters-host">
        <input type="radio" name="status" id="f-all" checked><label for="f-all">all ({{counts.all}})</label>
        <input type="radio" name="status" id="f-failed"><label for="f-failed">failed ({{counts.failed}})</label>
        <input type="radio" name="status" id="f-passed"><label for="f-passed">passed ({{counts.passed}})</label>
        <input type="radio" name="status" id="f-skipped"><label for="f-skipped">skipped ({{counts.skipped}})</label>
        <table class="checks"><thead><tr><th>status</th><th>check</th><th>kind</th><th>evidence</th><th class="num">s</th></tr></thead><tbody>
        {{#checks}}<tr class="check {{status}}"><td class="st">{{statusText}}</td><td class="name">{{name}}</td><td>{{kind}}</td><td class="ev">{{evidence}}{{#fix}}<div class="fix">fix: {{fix}}</div>{{/fix}}</td><td class="num">{{seconds}}</td></tr>
        {{/checks}}</tbody></table></section>

        <h2>Databases</h2>
        <table id="databases"><thead><tr><th>database</th><th>state</th><th class="num">tables</th><th class="num">rows</th><th class="num">encrypted</th><th class="num">plaintext</th><th class="num">restore</th><th class="num">-j</th></tr></thead><tbody>
        {{#databases}}<tr>{{#cells}}<td{{#num}} class="num"{{/num}}>{{text}}</td>{{/cells}}</tr>
        {{/databases}}</tbody></table>

        {{#hasJobs}}<h2>Exercise jobs</h2>
        <table id="jobs"><thead><tr><th>job</th><th>status</th><th>image</th><th>image ID</th><th class="num">exit</th><th class="num">time</th></tr></thead><tbody>
        {{#jobs}}<tr>{{#cells}}<td{{#num}} class="num"{{/num}}>{{text}}</td>{{/cells}}</tr>
        {{/jobs}}</tbody></table>{{/hasJobs}}

        <h2>The set and the tools</h2>
        <dl class="facts" id="set">{{#set}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/set}}</dl>
        <dl class="facts" id="versions">{{#versions}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/versions}}</dl>
        """

    static let historyBody = """
        <header><h1 id="title">{{title}}</h1><p class="muted" id="summary">{{summary}}</p><p class="note">from {{folder}}</p></header>

        {{#hasDrills}}<h2>Recovery time against the objective</h2>
        <svg id="rto-chart" xmlns="http://www.w3.org/2000/svg" width="860" height="280" viewBox="0 0 860 280" role="img" aria-label="recovery time over time">
        <line class="axis" x1="60" x2="840" y1="250" y2="250"></line><line class="axis" x1="60" x2="60" y1="10" y2="250"></line>
        <line class="objective" x1="60" x2="840" y1="{{objectiveY}}" y2="{{objectiveY}}"><title>the recovery time objective</title></line>
        {{#hasTrend}}<line class="trend" x1="{{trendX1}}" y1="{{trendY1}}" x2="{{trendX2}}" y2="{{trendY2}}"><title>{{trendText}}</title></line>{{/hasTrend}}
        {{#totals}}<circle class="pt total {{cls}}" cx="{{x}}" cy="{{y}}" r="3" fill-opacity="0.35"><title>{{tip}}</title></circle>
        {{/totals}}{{#points}}<circle class="pt rto {{cls}}" cx="{{x}}" cy="{{y}}" r="3.5"><title>{{tip}}</title></circle>
        {{/points}}{{#xTicks}}<text class="tick" x="{{x}}" y="{{y}}" dy="8" text-anchor="{{anchor}}">{{label}}</text>
        {{/xTicks}}{{#yTicks}}<text class="tick" x="{{x}}" y="{{y}}" text-anchor="{{anchor}}">{{label}}</text>
        {{/yTicks}}</svg>
        <p id="trend">{{trendText}}. <span class="note">Solid points: recovery time of passed drills; faint points: each drill's total; dashed: the objective.</span></p>
        <p id="passrate">{{passRate}}</p>

        <h2>Each database: last proven restorable</h2>
        <table id="databases"><thead><tr><th>database</th><th>last verified</th><th class="num">ago</th><th class="num">passed drills</th><th class="num">last restore</th><th>restore-time trend</th><th></th></tr></thead><tbody>
        {{#databases}}<tr class="{{#stale}}failed{{/stale}}"><td>{{name}}</td><td>{{lastVerified}}</td><td class="num">{{age}}</td><td class="num">{{drills}}</td><td class="num">{{lastRestore}}</td><td>{{trend}}</td><td><svg width="124" height="22" viewBox="0 0 124 22"><polyline class="spark" points="{{spark}}"></polyline></svg></td></tr>
        {{/databases}}</tbody></table>
        <p class="note">A database not verified in 92 days is marked: a hash is not a recovery test.</p>

        <h2>Every drill</h2>
        <table id="drills"><thead><tr><th>drill</th><th>date</th><th>kind</th><th>verdict</th><th class="num">RTO</th><th class="num">total</th><th class="num">backup age</th><th>over budget</th><th>first failure</th></tr></thead><tbody>
        {{#drills}}<tr class="check {{verdictClass}}"><td>{{id}}</td><td>{{date}}</td><td>{{kind}}</td><td class="st">{{verdict}}</td><td class="num">{{rto}}</td><td class="num">{{total}}</td><td class="num">{{backupAge}}</td><td>{{breaches}}</td><td class="ev">{{firstFailure}}</td></tr>
        {{/drills}}</tbody></table>{{/hasDrills}}
        """
}
