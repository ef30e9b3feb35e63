#!/bin/sh
# Re-fetches GraphiQL's assets from the npm registry at the pinned versions below, checks each
# file against its pinned SHA-384 (the hashes unpkg.com serves them with, which Strawberry's own
# page pins too) and writes them, with their licences, beside this script. The service serves
# them itself (web/graphiql.py): the page loads nothing from the internet.
# Needs npm and openssl. Usage: sh web/static/graphiql/refetch.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# package@version  file in the package  name here  sha384
ASSETS='
react@18.2.0 umd/react.production.min.js react.production.min.js tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8
react-dom@18.2.0 umd/react-dom.production.min.js react-dom.production.min.js bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh
graphiql@3.8.3 graphiql.min.js graphiql.min.js HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie
graphiql@3.8.3 graphiql.min.css graphiql.min.css Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM
@graphiql/plugin-explorer@1.0.2 dist/index.umd.js plugin-explorer.umd.js 2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9
@graphiql/plugin-explorer@1.0.2 dist/style.css plugin-explorer.css 5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi
'
# package@version  licence file in the package (the explorer plugin ships none: its monorepo's
# licence, from graphiql, covers it; it bundles graphiql-explorer, whose own licence is taken)
LICENCES='
react@18.2.0 LICENSE react.LICENSE
react-dom@18.2.0 LICENSE react-dom.LICENSE
graphiql@3.8.3 LICENSE graphiql.LICENSE
graphiql-explorer@0.9.0 LICENSE graphiql-explorer.LICENSE
'

unpack() {  # package@version -> the folder it is unpacked in
    dir="$work/$(printf '%s' "$1" | tr '@/' '__')"
    if [ ! -d "$dir" ]; then
        mkdir -p "$dir"
        (cd "$dir" && npm pack --silent "$1" >/dev/null && tar xzf ./*.tgz)
    fi
    printf '%s/package' "$dir"
}

printf '%s\n' "$ASSETS" | while read -r package file name sha; do
    [ -n "$package" ] || continue
    source="$(unpack "$package")/$file"
    actual=$(openssl dgst -sha384 -binary "$source" | openssl base64 -A)
    if [ "$actual" != "$sha" ]; then
        echo "$package $file: sha384-$actual is not the pinned sha384-$sha" >&2
        exit 1
    fi
    cp "$source" "$here/$name"
    echo "$name  <- $package/$file"
done
printf '%s\n' "$LICENCES" | while read -r package file name; do
    [ -n "$package" ] || continue
    cp "$(unpack "$package")/$file" "$here/$name"
    echo "$name  <- $package/$file"
done
