# frozen_string_literal: true

# tests/tracer/test_vars.rb — VARS and SETVAR (the variables view of an
# editor): scopes, expanding objects by ref a page at a time, values cut to
# their limit, an expression's value, assignment in every scope, refs that
# end with the stop, and refusals that leave the stop serving.
require 'minitest/autorun'
require 'pt_wire'

class TestVars < Minitest::Test
  SCRIPT = File.join(__dir__, 'scripts', 'values.rb')

  def setup
    @d = PtWire::Debuggee.new(SCRIPT)
    @c = @d.conn
    assert_equal 'entry', @c.read['reason']
    assert_equal :breakpoint, @c.request(:break, file: SCRIPT, line: 24)['type']
    assert_equal :ok, @c.request(:continue)['type']
    assert_equal 24, @c.wait_event(:stopped)['line']
  end

  def teardown
    @d&.close
  end

  def vars(**fields)
    r = @c.request(:vars, **fields)
    assert_equal :vars_reply, r['type'], r.inspect
    r
  end

  def by_name(reply)
    reply['vars'].to_h { |v| [v['name'], v] }
  end

  def test_locals_self_first_then_expand
    r = vars(scope: 'locals')
    names = r['vars'].map { |v| v['name'] }
    assert_equal 'self', names.first
    assert_equal %w[count list table point box], names - ['self']
    assert_equal names.size, r['total']
    v = by_name(r)
    assert_equal ['3', 'Integer', 0], v['count'].values_at('value', 'type', 'ref')
    assert_equal [250, 0], v['list'].values_at('indexed', 'named')
    refute_equal 0, v['list']['ref']

    # A page of the array, by index.
    page = vars(ref: v['list']['ref'], start: 100, count: 3)
    assert_equal 250, page['total']
    assert_equal [['[100]', '101'], ['[101]', '102'], ['[102]', '103']],
                 page['vars'].map { |e| e.values_at('name', 'value') }

    # Hash pairs named by the key's inspect; a nested array has its own ref.
    t = vars(ref: v['table']['ref'])
    assert_equal [['"a"', '1'], [':b', '[2, 3]']], t['vars'].map { |e| e.values_at('name', 'value') }
    assert_equal 2, t['vars'][1]['indexed']

    # Struct members and instance variables by name.
    assert_equal [%w[x 1], %w[y 2]], vars(ref: v['point']['ref'])['vars'].map { |e| e.values_at('name', 'value') }
    box = vars(ref: v['box']['ref'])
    assert_equal %w[@label @items], box['vars'].map { |e| e['name'] }

    # The same object keeps its ref during the stop.
    assert_equal v['list']['ref'], by_name(vars(scope: 'locals'))['list']['ref']
  end

  def test_ivars_globals_and_eval
    @c.request(:delete, bp: 1)
    assert_equal :breakpoint, @c.request(:break, file: SCRIPT, line: 14)['type']
    assert_equal :ok, @c.request(:continue)['type']
    assert_equal 14, @c.wait_event(:stopped)['line']
    assert_equal %w[self n hidden], vars(scope: 'locals')['vars'].map { |e| e['name'] }
    assert_equal %w[@label @items], vars(scope: 'ivars')['vars'].map { |e| e['name'] }
    g = by_name(vars(scope: 'globals'))
    assert_equal ':set', g['$pt_global']['value']
    refute g.key?('$='), 'reading $= only warns'
    # The caller's frame has the caller's locals.
    assert_includes vars(scope: 'locals', frame: 1)['vars'].map { |e| e['name'] }, 'table'

    e = vars(scope: 'eval', expr: '@items.map { |i| i * 10 }')
    assert_equal [['@items.map { |i| i * 10 }', '[10, 20]', 'Array', 2]],
                 e['vars'].map { |x| x.values_at('name', 'value', 'type', 'indexed') }
    bad = @c.request(:vars, scope: 'eval', expr: 'nope_nope')
    assert_equal [:error, PtWire::ERR[:eval]], bad.values_at('type', 'code')
    assert_match(/NameError/, bad['message'])
  end

  def test_long_values_are_cut
    e = vars(scope: 'eval', expr: '"x" * 10_000')
    text = e['vars'][0]['value']
    assert_operator text.bytesize, :<=, 4096 + 3
    assert text.end_with?('...')
  end

  def test_setvar_in_each_scope_then_the_program_sees_it
    r = @c.request(:setvar, scope: 'locals', name: 'count', expr: '40 + 2')
    assert_equal [:vars_reply, '42'], [r['type'], r.dig('vars', 0, 'value')]
    list = by_name(vars(scope: 'locals'))['list']
    assert_equal '0', @c.request(:setvar, ref: list['ref'], name: '[0]', expr: '0').dig('vars', 0, 'value')
    table = by_name(vars(scope: 'locals'))['table']
    assert_equal ':z', @c.request(:setvar, ref: table['ref'], name: '"a"', expr: ':z').dig('vars', 0, 'value')
    @c.request(:setvar, scope: 'globals', name: '$pt_global', expr: ':changed')
    assert_equal ':changed', @c.request(:eval, expr: '$pt_global')['text']
    assert_equal '[0, 2, 3]', @c.request(:eval, expr: 'list.first(3)')['text']
    assert_equal '{"a"=>:z, :b=>[2, 3]}', @c.request(:eval, expr: 'table')['text']

    nokey = @c.request(:setvar, ref: table['ref'], name: '"nope"', expr: '1')
    assert_equal :error, nokey['type']
    assert_match(/no such key/, nokey['message'])
    selfset = @c.request(:setvar, scope: 'locals', name: 'self', expr: '1')
    assert_equal :error, selfset['type']

    assert_equal :ok, @c.request(:continue)['type']
    @d.wait
    assert_match(/count=42 list=250 table=2 point=1/, @d.stdout)
  end

  def test_refs_end_with_the_stop_and_bad_requests_are_refused
    list = by_name(vars(scope: 'locals'))['list']
    assert_equal :ok, @c.request(:delete, bp: 1)['type']
    assert_equal :breakpoint, @c.request(:break, file: SCRIPT, line: 14)['type']
    assert_equal :ok, @c.request(:continue)['type']
    assert_equal 14, @c.wait_event(:stopped)['line']
    gone = @c.request(:vars, ref: list['ref'])
    assert_equal [:error, PtWire::ERR[:bad_request]], gone.values_at('type', 'code')
    assert_match(/no such variables reference/, gone['message'])
    other = @c.request(:vars, scope: 'locals', fiber: 999)
    assert_equal :error, other['type']
    assert_match(/not the stopped fiber/, other['message'])
    assert_equal :error, @c.request(:vars, scope: 'bogus')['type']
    assert_equal :vars_reply, @c.request(:vars, scope: 'locals')['type'], 'still serving'
  end
end
