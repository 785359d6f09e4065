"""Small templates, one Jinja2 behaviour each, rendered by make_jinja_cases.py."""

MSGS = [
    {"role": "system", "content": "sys"},
    {"role": "user", "content": "hi"},
    {"role": "assistant", "content": "yo", "extra": {"k": [1, 2.5, None, True]}},
]
D = {"b": 1, "a": "x", "items": [1, 2], "nested": {"z": {"y": "deep"}}}

FEATURE_CASES = [
    # whitespace control: trim_blocks, lstrip_blocks, -, +
    ("trim_blocks", "{% if true %}\nyes\n{% endif %}\nend", {}),
    ("lstrip_blocks", "a\n    {% if true %}\n    b\n    {% endif %}\nc", {}),
    ("lstrip not for variables", "a\n    {{ 'x' }}\n", {}),
    ("dash strips", "a   {%- if true -%}   b   {%- endif -%}   c", {}),
    ("dash in variables", "a \n {{- 'x' -}} \n b", {}),
    ("plus keeps", "a\n    {%+ if true +%}\nb\n{%- endif %}", {}),
    ("comment trims", "a\n  {# note #}\nb{#- x -#}  c", {}),
    ("lstrip after text on line", "x {% if true %}y{% endif %}\n", {}),
    ("tabs stripped", "\t\t{% if true %}t{% endif %}", {}),
    ("trailing newline dropped", "text\n", {}),
    ("only one trailing newline dropped", "text\n\n", {}),
    ("crlf normalized", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n", {}),
    ("raw block", "{% raw %}{{ not evaluated }}{% endraw %}", {}),
    ("raw lstrip", "  {% raw %}  x {{ y }}\n  {% endraw %}z", {}),
    ("block end at eof", "{% if true %}a{% endif %}", {}),
    # literals and output
    ("literals", "{{ 1 }} {{ -2 }} {{ 3.5 }} {{ 1e3 }} {{ 1_000 }} {{ 0x1f }} {{ true }} "
     "{{ False }} {{ none }} {{ 'a' 'b' }} {{ \"q\\\"\" }}", {}),
    ("float repr", "{{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1.5e-7 }} {{ 10 / 4 }} {{ 2 ** 0.5 }} "
     "{{ 100.0 }} {{ 1e22 }} {{ -0.0 }} {{ 123456789.125 }}", {}),
    ("string escapes", "{{ 'tab\\there\\nnew \\u00e9 \\x41 \\101 \\\\ \\q' }}", {}),
    ("list and dict repr", "{{ [1, 'a', none, true, 2.0] }} {{ {'k': 'v', 'n': [1]} }} "
     "{{ (1,) }} {{ (1, 'b') }} {{ () }}", {}),
    ("string repr quotes", "{{ [\"it's\", 'say \"hi\"', 'both \\' \"', 'nl\\n', 'é'] }}", {}),
    ("print context values", "{{ messages[2].extra }} {{ d }}", {"messages": MSGS, "d": D}),
    # operators
    ("arithmetic", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7.5 // 2 }} "
     "{{ -7.5 % 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 3 * 'ab' }} {{ [1] * 3 }} {{ 1 + 2.5 }}", {}),
    ("precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} "
     "{{ 'a' ~ (1 + 2) }} {{ 1 + 2 ~ 3 if false else 'x' }} {{ not true or true }} "
     "{{ not (true or true) }} {{ 'ab' | upper ~ 'c' }} {{ -'3' | int }}", {}),
    ("error: concat binds tighter than plus", "{{ 'a' ~ 1 + 2 }}", {}),
    ("concat tilde", "{{ 'a' ~ 1 ~ none ~ true ~ [1] ~ undefined_thing }}", {}),
    ("comparisons", "{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} "
     "{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'b' }} {{ 2 >= 2 }} {{ 3 <= 2 }}", {}),
    ("in operator", "{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} "
     "{{ 'z' not in 'cat' }} {{ 'x' in u }}", {}),
    ("and or values", "{{ 0 or 'b' }} {{ 'a' and 'b' }} {{ '' and 'b' }} {{ none or [] }}", {}),
    ("conditional expression", "{{ 'y' if true else 'n' }}{{ 'y' if false else 'n' }}"
     "[{{ 'y' if false }}]", {}),
    ("list concat", "{{ [1, 2] + [3] }} {{ (1,) + (2,) }}", {}),
    # tests
    ("tests", "{{ x is defined }} {{ y is defined }} {{ y is undefined }} {{ none is none }} "
     "{{ 'a' is string }} {{ d is mapping }} {{ l is iterable }} {{ 's' is iterable }} "
     "{{ l is sequence }} {{ 1 is number }} {{ 1.5 is float }} {{ 1 is integer }} "
     "{{ true is boolean }} {{ true is true }} {{ 0 is false }} {{ 3 is odd }} {{ 4 is even }} "
     "{{ 9 is divisibleby 3 }} {{ 'a' is equalto 'a' }} {{ 2 is gt 1 }} {{ 'ab' is lower }} "
     "{{ 2 is in [1, 2] }} {{ u is iterable }} {{ d is sequence }} {{ true is number }}",
     {"x": 1, "d": D, "l": [1]}),
    ("is not", "{{ x is not none }} {{ x is not defined }} {{ not x is defined }}", {"x": None}),
    ("test with argument syntax", "{{ 3 is divisibleby(3) }} {{ 'a' is eq('a') }} "
     "{{ 1 is ne 2 }} {{ 1 is lt 2 }} {{ 1 is le 1 }} {{ 1 is ge 2 }} {{ 1 is sameas 1 }}", {}),
    # filters
    ("trim filters", "[{{ '  a b  ' | trim }}][{{ 'xxaxx' | trim('x') }}][{{ u | trim }}]", {}),
    ("case filters", "{{ 'hELLo wORLD' | lower }} {{ 'abc' | upper }} {{ 'hello-world foo(bar' "
     "| title }} {{ 'hELLO wORLD' | capitalize }} {{ 'éa' | upper }}", {}),
    ("length", "{{ 'héllo' | length }} {{ [1, 2] | length }} {{ d | length }} {{ u | length }} "
     "{{ 'ab' | count }}", {"d": D}),
    ("tojson", "{{ d | tojson }}|{{ l | tojson }}|{{ 'é\"\\n<>&' | tojson }}|{{ none | tojson }}",
     {"d": D, "l": [1, 2.5, "x", None, True, {"a": []}]}),
    ("tojson indent", "{{ d | tojson(indent=2) }}\n{{ [] | tojson(indent=4) }}\n"
     "{{ {} | tojson(indent=4) }}\n{{ [[1], {}] | tojson(indent=0) }}", {"d": D}),
    ("tojson options", "{{ d | tojson(sort_keys=true) }} {{ 'é' | tojson(ensure_ascii=true) }} "
     "{{ d | tojson(separators=(',', ':')) }}", {"d": D}),
    ("tojson unicode and floats", "{{ v | tojson }}",
     {"v": {"emoji": "😀", "ctl": "\u0001\u001f", "f": [0.1, 1e-7, 1e22, 3.0, -0.5]}}),
    ("string filter", "{{ 1 | string }}{{ none | string }}{{ [1, 'a'] | string }}{{ u | string }}"
     "{{ d | string }}", {"d": {"a": 1}}),
    ("replace", "{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }} "
     "{{ 'ab' | replace('', '-') }} {{ 'Hello' | replace('l', '') }}", {}),
    ("default", "{{ u | default('d') }} {{ x | default('d') }} {{ '' | default('d') }} "
     "{{ '' | default('d', true) }} {{ u | d('short') }} {{ none | default('d') }} "
     "{{ u | default }}", {"x": "set"}),
    ("join", "{{ [1, 'a', none] | join }} {{ ['a', 'b'] | join(', ') }} "
     "{{ users | join('/', attribute='name') }} {{ 'abc' | join('.') }}",
     {"users": [{"name": "ann"}, {"name": "bob"}]}),
    ("first last", "{{ [1, 2, 3] | first }} {{ [1, 2, 3] | last }} {{ 'abc' | first }} "
     "{{ 'abc' | last }} [{{ [] | first }}] {{ d | first }}", {"d": D}),
    ("list items", "{{ 'ab' | list }} {{ d | list }} {{ d | items | list }} "
     "{% for k, v in d | items %}{{ k }}={{ v }};{% endfor %}", {"d": {"x": 1, "y": [2]}}),
    ("select reject", "{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('odd') "
     "| list }} {{ ['a', 'b'] | reject('equalto', 'a') | list }} {{ [0, 1, '', 'x'] | select "
     "| list }} {{ [1, 5, 9] | select('gt', 4) | list }}", {}),
    ("selectattr", "{{ m | selectattr('role', 'equalto', 'user') | list }} "
     "{{ m | rejectattr('role', 'equalto', 'user') | map(attribute='content') | list }} "
     "{{ m | selectattr('extra') | map(attribute='role') | join }} "
     "{{ m | selectattr('extra', 'defined') | list | length }}", {"m": MSGS}),
    ("map", "{{ ['a', 'B'] | map('upper') | list }} {{ m | map(attribute='role') | join(',') }} "
     "{{ m | map(attribute='missing', default='-') | list }} "
     "{{ [[1, 2], [3]] | map('length') | list }} {{ m[2:] | map(attribute='extra.k.1') | list }}",
     {"m": MSGS}),
    ("error: map attribute path through undefined", "{{ m | map(attribute='extra.k') | list }}",
     {"m": MSGS}),
    ("int float round", "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} "
     "{{ 3.9 | int }} {{ '0x1f' | int(0, 16) }} {{ '1.5' | float }} {{ 2 | float }} "
     "{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 2.1 | round(0, 'ceil') }} "
     "{{ 2.9 | round(method='floor') }} {{ 5 | round }} {{ -1.5 | abs }} {{ true | int }}", {}),
    ("indent", "{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|"
     "{{ 'a\\n\\nb' | indent(width='> ', blank=true) }}|{{ 'x\\n' | indent(first=true) }}", {}),
    ("safe escape", "{{ '<b>' | safe }} {{ '<a href=\"x\">&\\'' | escape }} {{ 'x' | e }}", {}),
    ("sort unique minmax", "{{ [3, 1, 2] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} "
     "{{ ['b', 'A', 'c'] | sort }} {{ ['b', 'A', 'c'] | sort(case_sensitive=true) }} "
     "{{ m | sort(attribute='role') | map(attribute='role') | list }} "
     "{{ [1, 2, 1, 'a', 'A'] | unique | list }} {{ [4, 9, 2] | max }} {{ [4, 9, 2] | min }} "
     "{{ ['a', 'B'] | max }} {{ [1, 2.5] | sum }} {{ m | map(attribute='content') | sum(start='') if false else '' }}"
     "{{ [] | max }}", {"m": MSGS}),
    ("dictsort reverse wordcount", "{{ d | dictsort }} {{ d | dictsort(by='value', reverse=true) }}"
     " {{ [1, 2, 3] | reverse | list }} {{ 'abc' | reverse }} {{ 'one two, three' | wordcount }}"
     " {{ d | attr('b') }}", {"d": {"b": 2, "a": 3, "C": 1}}),
    ("filter chains and args", "{{ '  Hi  ' | trim | lower | replace('h', 'j') | length }} "
     "{{ (m | first).role | upper }}", {"m": MSGS}),
    # subscripts, slices, attributes
    ("subscripts", "{{ m[0].role }} {{ m[-1]['content'] }} {{ m[1].content[0] }} "
     "{{ d.nested.z.y }} {{ d['nested']['z'] }} [{{ m[9] }}] [{{ d.missing }}] {{ m.0.role }}",
     {"m": MSGS, "d": D}),
    ("slices", "{{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ 'hello'[-2:] }} {{ [1, 2, 3, 4][1:] }} "
     "{{ [1, 2, 3, 4][::2] }} {{ [1, 2, 3, 4][:-1] }} {{ 'héllo'[1:] }} {{ [1, 2, 3][5:] }} "
     "{{ 'abcdef'[4:1:-1] }} {{ [1, 2, 3][-10:10] }} {{ 'x'[:] }}", {}),
    ("dict attribute versus method", "{{ d['items'] }} {{ d.b }} {{ d.get('b') }} "
     "{{ d.get('zz', 'dflt') }} {{ d.get('zz') }} {{ d.keys() | list }} {{ d.values() | list }} "
     "{% for k, v in d.items() %}{{ k }}:{{ v }},{% endfor %}", {"d": D}),
    ("string methods", "{{ '  x  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  x'.lstrip() }}|"
     "{{ 'x  '.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|"
     "{{ 'a b c'.split(' ', 1) }}|{{ 'a b c'.rsplit(' ', 1) }}|{{ 'abc'.startswith('ab') }}|"
     "{{ 'abc'.endswith(('x', 'c')) }}|{{ 'aBc'.upper() }}{{ 'aBc'.lower() }}|"
     "{{ 'hello world\\'s 3rd'.title() }}|{{ 'a-b'.replace('-', '_') }}|{{ 'abcb'.find('b') }}|"
     "{{ 'abcb'.rfind('b') }}|{{ 'abcb'.count('b') }}|{{ ', '.join(['x', 'y']) }}|"
     "{{ 'l1\\nl2\\r\\nl3'.splitlines() }}|{{ '42'.isdigit() }}|{{ 'ab'.isalpha() }}|"
     "{{ 'x{}y{}'.format(1, 'z') }}|{{ '{a}-{0}'.format('p', a='q') }}|{{ 'pre_x'.removeprefix('pre_') }}|"
     "{{ '7'.zfill(3) }}|{{ 'ab'.center(6, '*') }}|{{ 'a=b=c'.partition('=') }}|{{ 'Ab'.swapcase() }}",
     {}),
    ("method on missing attribute is undefined", "{{ m[0].nothing is defined }}", {"m": MSGS}),
    # statements: for
    ("loop variables", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}"
     "{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}"
     "[{{ loop.previtem }}|{{ loop.nextitem }}]{{ loop.cycle('o', 'e') }};{% endfor %}", {}),
    ("for else", "{% for x in [] %}x{% else %}empty{% endfor %}|"
     "{% for x in u %}x{% else %}undef{% endfor %}", {}),
    ("for filter", "{% for x in range(10) if x is odd %}{{ x }}{{ loop.length }}"
     "{{ ',' if not loop.last }}{% endfor %}", {}),
    ("for over dict and unpack", "{% for k in d %}{{ k }}{% endfor %}|"
     "{% for a, b in [[1, 2], (3, 4)] %}{{ a + b }}{% endfor %}|"
     "{% for (a, b) in [['x', 'y']] %}{{ b }}{{ a }}{% endfor %}", {"d": D}),
    ("nested loops", "{% for i in range(3) %}{% for j in range(i) %}{{ i }}{{ j }}"
     "{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("break continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}"
     "{% if i > 5 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    ("range", "{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(5, 0, -2) | list }} "
     "{{ range(0) | list }}", {}),
    # set, scoping, namespace
    ("set", "{% set x = 1 %}{% set y, z = 2, 3 %}{{ x }}{{ y }}{{ z }}{% set t = 1, 2 %}{{ t }}",
     {}),
    ("loop scope", "{% set x = 'out' %}{% for i in range(2) %}{{ x }}{% set x = i %}{{ x }}"
     "{% endfor %}{{ x }}", {}),
    ("set in loop does not persist across iterations",
     "{% for i in range(3) %}{% if i == 0 %}{% set x = 'a' %}{% endif %}[{{ x }}]{% endfor %}", {}),
    ("if does not scope", "{% if true %}{% set x = 'in' %}{% endif %}{{ x }}", {}),
    ("namespace", "{% set ns = namespace(found=false, n=0) %}{% for m in msgs %}"
     "{% if m.role == 'user' %}{% set ns.found = true %}{% endif %}{% set ns.n = ns.n + 1 %}"
     "{% endfor %}{{ ns.found }} {{ ns.n }} {{ ns.missing is defined }}", {"msgs": MSGS}),
    ("set block", "{% set body %}a{{ 1 + 1 }}b{% endset %}[{{ body }}]"
     "{% set up | upper %}x{{ 'y' }}{% endset %}{{ up }}", {}),
    ("override context", "{% set messages = messages[1:] %}{{ messages | length }}",
     {"messages": MSGS}),
    ("with", "{% with a = 1, b = 'x' %}{{ a }}{{ b }}{% endwith %}[{{ a }}]", {}),
    # macros
    ("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}"
     "{{ greet('ann') }} {{ greet('bob', '?') }} {{ greet(name='cy', punct='.') }} [{{ greet() }}]",
     {}),
    ("macro closure and recursion", "{% set sep = ', ' %}{% macro render(v) %}"
     "{% if v is mapping %}{{ '{' }}{% for k, x in v.items() %}{{ k }}: {{ render(x) }}"
     "{{ sep if not loop.last }}{% endfor %}{{ '}' }}{% elif v is string %}'{{ v }}'"
     "{% else %}{{ v }}{% endif %}{% endmacro %}{{ render(d) }}", {"d": D}),
    ("macro varargs kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}"
     "{{ m(1, 2, 3, k='v') }}", {}),
    ("call block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}"
     "{% call wrap('b') %}inner {{ 1 + 1 }}{% endcall %}", {}),
    ("call block with args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}"
     "{% endmacro %}{% call(item) each([1, 2]) %}[{{ item }}]{% endcall %}", {}),
    ("filter block", "{% filter upper %}hello {{ 'x' }}{% endfilter %}", {}),
    ("generation tag", "{% for m in msgs %}{% if m.role == 'assistant' %}{% generation %}"
     "{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}{% endfor %}",
     {"msgs": MSGS}),
    ("globals", "{{ strftime_now('%Y-%m-%d %H:%M:%S %d %b %Y %A') }} "
     "{{ dict(a=1, b='x') }} {{ namespace(a=1).a }}", {}),
    ("raise_exception message", "{{ raise_exception('Bad role: ' ~ r) }}", {"r": "critic"}),
    ("unicode content", "{% for m in msgs %}{{ m.content | trim }}|{{ m.content | length }}|"
     "{{ m.content[0] }}|{% endfor %}", {"msgs": [{"content": " 你好，世界 "},
                                                   {"content": "émoji 😀 ok"}]}),
    ("whitespace-only strings", "[{{ '\\u3000x\\u00a0' | trim }}][{{ ' \\t\\n' | trim }}]", {}),
    ("chained comparisons with in", "{{ 1 in [1] in [true] }} {{ 'a' == 'a' != 'b' }}", {}),
    ("nested data", "{{ d.nested | tojson }} {{ d['nested'].z.y | upper }}", {"d": D}),
    ("booleans print", "{{ true }} {{ 1 == 1 }} {{ [true, false] }}", {}),
    ("big ints", "{{ 9007199254740993 }} {{ 2 ** 62 }} {{ -9223372036854775807 - 1 }}", {}),
    ("printf-style formatting", "{{ '%s and %d' % ('a', 3) }}|{{ '%5.2f|%-4s|%04d|%x|%r' % "
     "(3.14159, 'ab', 42, 255, 'q') }}|{{ '%(name)s is %(age)d' % {'name': 'ann', 'age': 30} }}|"
     "{{ '%s' % 'solo' }}|{{ '%s' % [1, 2] }}|{{ '%.1s' % 'xyz' }}|{{ '100%%' % () }}|"
     "{{ '%s|%s' | format('a', 1) }}|{{ '%(a)s' | format(a='k') }}|"
     "{{ '%e %g %G %.3f' % (12345.678, 0.00001234, 1e20, 2.0005) }}|{{ '%+d % d %d' % (5, 5, 7.9) }}|"
     "{{ '%x %o %X' % (-255, 8, 255) }}|{{ '%c%c' % (65, 'b') }}|{{ '%5s|%-5d|' % ('é', -3) }}", {}),
    ("error: printf type", "{{ '%d' % 'x' }}", {}),
    ("error: printf too few", "{{ '%s %s' % ('a',) }}", {}),
    ("error: printf too many", "{{ '%s' % ('a', 'b') }}", {}),
    ("reverse of undefined", "[{{ u | reverse | list }}]", {}),
    # generators (select, map, ...) and dict views behave as in Python
    ("generators are true and run once", "{% if [] | select('odd') %}true{% endif %} "
     "{% set g = [1, 2] | map('string') %}{{ g | list }}{{ g | list }} "
     "[{{ ([1, 2] | select)[0] }}] {{ [3, 4] | reverse | list }} {{ (1, 2) | reverse | join }} "
     "{{ 2 in [1, 2] | select }} {{ none | select | list }} {{ none | map('upper') | list }}", {}),
    ("dict views", "{{ d.items() }} {{ d.keys() }} {{ d.values() }} {{ d.items() | length }} "
     "{{ d.keys() is sequence }} {{ 'a' in d.keys() }} [{{ d.items()[0] }}]", {"d": {"a": 1}}),
    ("markup escapes what is added to it", "{{ 'a' | safe + '<b>' }} {{ '<x>' + ('&' | safe) }} "
     "{{ ('<p>' | safe).replace('p', '<q>') }} {{ ('a' | safe) ~ '<' }} {{ ('<' | e) | e }} "
     "{{ ['<' | safe] }} {{ ('x' | safe).upper() + \"'\" }} {{ ('<' | safe) | trim + '>' }} "
     "{{ (', ' | safe).join(['<', '>']) }} {{ ('<' | safe) * 2 + '&' }}", {}),
    ("error: length of a generator", "{{ [1] | select('odd') | length }}", {}),
    ("error: tojson of a generator", "{{ [1] | map('string') | tojson }}", {}),
    ("error: tojson of a dict view", "{{ {'a': 1}.items() | tojson }}", {}),
    ("error: last of a generator", "{{ [1] | select | last }}", {}),
    # errors Jinja2 raises at render time
    ("error: undefined arithmetic", "{{ u + 1 }}", {}),
    ("error: attribute of undefined", "{{ u.x }}", {}),
    ("error: attribute of missing attribute", "{{ d.missing.x }}", {"d": D}),
    ("error: tojson undefined", "{{ u | tojson }}", {}),
    ("error: str plus int", "{{ 'a' + 1 }}", {}),
    ("error: none plus str", "{{ none + 'a' }}", {}),
    ("error: compare str int", "{{ 'a' < 1 }}", {}),
    ("error: division by zero", "{{ 1 / 0 }}", {}),
    ("error: raise_exception", "{% if true %}{{ raise_exception('Roles must alternate') }}{% endif %}",
     {}),
    ("error: call undefined", "{{ nothing() }}", {}),
    ("error: not callable", "{{ 'x'() }}", {}),
    ("error: iterate none", "{% for x in none %}{% endfor %}", {}),
    ("error: range too big", "{{ range(1000000) | length }}", {}),
    ("error: unsafe list mutation", "{% set l = [1] %}{{ l.append(2) }}", {}),
    ("error: namespace attribute on non-namespace", "{% set d = {} %}{% set d.x = 1 %}", {}),
    ("error: unpack mismatch", "{% for a, b in [[1, 2, 3]] %}{% endfor %}", {}),
    ("error: in with int left of string", "{{ 1 in 'abc' }}", {}),
]
