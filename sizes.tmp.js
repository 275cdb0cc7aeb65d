const acorn = require('acorn'); const walk = require('acorn-walk');
const c = require('fs').readFileSync(process.argv[2], 'utf8');
const ast = acorn.parse(c, { ecmaVersion: 2020 });
const rows = [];
walk.fullAncestor(ast, (node, anc) => {
  if ((node.type === 'FunctionDeclaration' || node.type === 'ArrowFunctionExpression' || node.type === 'FunctionExpression')) {
    const depth = anc.filter(a => a.type.includes('Function')).length - 1;
    if (depth <= 1) rows.push([node.end - node.start, depth, c.slice(node.start, node.start + 70)]);
  }
});
rows.sort((a, b) => b[0] - a[0]).slice(0, 40).forEach(r => console.log(r[0], r[1], r[2]));
