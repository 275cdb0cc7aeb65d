// Editor helper shared by the Kisstime nodes' edit dialogs (Node-RED serves a module's resources/ folder to the
// editor). A field's problem is shown in words right under that field, not only as a red border or a hover tooltip:
// the message starts with the field's label, so it reads the same here, in the deploy warning and in the runtime
// error a Catch node gets.

/* global $, RED */
(function () {
  'use strict';

  /** The error line that belongs to an input: the row right after the input's own form row. */
  function errorRow(input) {
    var row = input.closest('.form-row');
    var next = row.next('.kisstime-field-error');
    if (next.length > 0) return next;
    next = $('<div class="form-row kisstime-field-error" role="alert"><label>&nbsp;</label><span class="kisstime-field-error-text"></span></div>')
      .attr('id', input.attr('id') + '-error')
      .css({ color: 'var(--red-ui-text-color-error, #d6615f)', marginTop: '-6px' })
      .hide();
    next.find('span').css({ display: 'inline-block', width: '70%', verticalAlign: 'top' });
    row.after(next);
    return next;
  }

  /** Shows message under the input with this id (a string), or removes the line (anything else). */
  function fieldError(inputId, message) {
    var input = $('#' + inputId);
    if (input.length === 0) return;
    var row = errorRow(input);
    if (typeof message === 'string' && message !== '') {
      row.find('.kisstime-field-error-text').text(message);
      row.show();
    } else {
      row.find('.kisstime-field-error-text').text('');
      row.hide();
    }
  }

  /**
   * Runs the node's validators on what the form holds now and shows each verdict under its field. fields: the
   * property names; prefix: "node-input" or "node-config-input"; node: the node being edited (validators read it
   * as `this`). Returns true when every field passed.
   */
  function showVerdicts(node, defaults, fields, prefix) {
    var ok = true;
    fields.forEach(function (name) {
      var input = $('#' + prefix + '-' + name);
      if (input.length === 0 || !defaults[name] || typeof defaults[name].validate !== 'function') return;
      var value = input.attr('type') === 'checkbox' ? input.prop('checked') : input.val();
      var verdict = defaults[name].validate.call(node, value, {});
      if (verdict !== true) ok = false;
      fieldError(prefix + '-' + name, typeof verdict === 'string' ? verdict : null);
    });
    return ok;
  }

  /**
   * A node's kisstime-servers property: Node-RED's own check of a config property says only "invalid"; this one
   * says what to do, under the field. t: the node's own message lookup.
   */
  function validateServers(t, v) {
    var vars = { label: t('label.servers') };
    if (!v || v === '_ADD_') return t('errors.noConfig', vars);
    var config = RED.nodes.node(v);
    if (!config) return t('errors.missingConfig', vars);
    if (config.valid === false) return t('errors.badConfig', vars);
    return true;
  }

  window.KisstimeEditor = { fieldError: fieldError, showVerdicts: showVerdicts, validateServers: validateServers };
})();
