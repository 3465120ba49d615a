// Prints, as JSON, what pa11y injects into a page and the options it runs it with, built
// from pa11y's own modules (as pa11y's injectRunners and loadRunnerScript do): the journeys
// run pa11y's HTML_CodeSniffer runner inside the pages they visit, in the state they reach
// (after a POST, an htmx swap, before a logout), which a second visit of the address by
// pa11y's own browser could not see. Usage: node pa11y-bundle.cjs
'use strict';

const fs = require('fs');
const path = require('path');

const pa11yMain = require.resolve('pa11y');
const pa11y = require(pa11yMain);
const lib = path.dirname(pa11yMain);
const version = require(path.join(lib, '..', 'package.json')).version;
const runner = require(path.join(lib, 'runners', 'htmlcs.js'));

const bundle = runner.scripts.map(script => fs.readFileSync(script, 'utf-8')).join('\n\n');
const script = [
	fs.readFileSync(path.join(lib, 'runner.js'), 'utf-8'),
	`;${bundle};\n;window.__pa11y.runners["htmlcs"] = ${runner.run.toString()};`
].join('\n');

// pa11y's defaults, warnings and notices ignored as pa11y does unless asked for them.
const d = pa11y.defaults;
const options = {
	pa11yVersion: version,
	hideElements: d.hideElements,
	ignore: [...d.ignore, 'notice', 'warning'],
	levelCapWhenNeedsReview: d.levelCapWhenNeedsReview,
	rootElement: d.rootElement,
	rules: d.rules,
	runners: ['htmlcs'],
	standard: 'WCAG2AA',
	wait: 0
};
process.stdout.write(JSON.stringify({version, script, options}));
