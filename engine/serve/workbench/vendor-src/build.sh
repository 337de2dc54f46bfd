#!/usr/bin/env bash
# Rebuilds the workbench's vendored editor (../static/vendor/codemirror.js) from npm:
# the versions pinned in package-lock.json, bundled by esbuild into one minified ES module,
# with the licence of every package that goes into it (../static/vendor/LICENSES.txt).
# Run it after changing package.json or editor.js, then commit both the lock file and the output.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
out=../static/vendor
mkdir -p "$out"
node_modules/.bin/esbuild editor.js --bundle --format=esm --minify --target=es2020 \
    --legal-comments=none --outfile="$out/codemirror.js"
# The licences of the bundled packages (every package under node_modules but the bundler).
{
    echo "Licences of the packages bundled into codemirror.js (rebuilt by vendor-src/build.sh)."
    for dir in node_modules/@codemirror/* node_modules/@lezer/* node_modules/@marijn/* \
               node_modules/crelt node_modules/style-mod node_modules/w3c-keyname; do
        [ -d "$dir" ] || continue
        version=$(node -p "require('./$dir/package.json').version")
        echo
        echo "==== ${dir#node_modules/} $version ===="
        cat "$dir"/LICENSE* 2>/dev/null || node -p "'license: ' + require('./$dir/package.json').license"
    done
} > "$out/LICENSES.txt"
ls -l "$out"
