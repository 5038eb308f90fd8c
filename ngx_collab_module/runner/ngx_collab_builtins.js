/*
 * Copyright (C) collab
 *
 * The built-ins the parts use, by name, with the helpers built on them.
 * The runtime script (ngx_collab_prelude.js) takes them before the
 * workflow runs, in a list in the order of the names below, and calls
 * this with it when the first part loads; every part is handed the
 * frozen object with no prototype this returns.
 */

(function (taken) {
    'use strict';

    const names = [
        'ObjectDefineProperty',
        'ObjectFreeze',
        'ObjectGetOwnPropertyDescriptor',
        'ObjectKeys',
        'ObjectGetPrototypeOf',
        'ObjectGetOwnPropertySymbols',
        'ObjectPrototypeHasOwnProperty',
        'ObjectPrototypePropertyIsEnumerable',
        'ObjectPrototypeToString',
        'ObjectIs',
        'ReflectApply',
        'ArrayIsArray',
        'FunctionPrototypeToString',
        'RegExpPrototypeToString',
        'DatePrototypeToISOString',
        'DatePrototypeGetTime',
        'ErrorCtor',
        'ErrorPrototypeToString',
        'JSONParse',
        'JSONStringify',
        'NumberIsNaN',
        'StringFromCharCode',
        'PromiseCtor',
        'MapCtor',
        'SetCtor',
        'Uint8ArrayCtor',
        'ArrayBufferCtor',
        'ArrayBufferIsView',
        'TypedArrayProtoToStringTag',
        'MapPrototypeSize',
        'SetPrototypeSize',
        'MapPrototypeEntries',
        'SetPrototypeValues',
        'ArrayBufferByteLength',
        'SymbolPrototypeToString',
        'SymbolToStringTag',
        'SymbolIterator',
        'define'
    ];

    const builtins = { __proto__: null };

    for (let i = 0; i < names.length; i++) {
        builtins[names[i]] = taken[i];
    }

    const {
        ObjectFreeze, ObjectPrototypeToString, ReflectApply, ErrorCtor,
        ArrayBufferIsView, TypedArrayProtoToStringTag
    } = builtins;

    function call(f, self, ...args) {
        return ReflectApply(f, self, args);
    }

    function hex2(c) {
        const s = c.toString(16).toUpperCase();
        return s.length < 2 ? '0' + s : s;
    }

    function classOf(value) {
        return call(ObjectPrototypeToString, value).slice(8, -1);
    }

    function isError(value) {
        return value instanceof ErrorCtor || classOf(value) === 'Error';
    }

    function isTypedArray(value) {
        return ArrayBufferIsView(value)
               && call(TypedArrayProtoToStringTag, value) !== undefined;
    }

    builtins.call = call;
    builtins.hex2 = hex2;
    builtins.classOf = classOf;
    builtins.isError = isError;
    builtins.isTypedArray = isTypedArray;

    return ObjectFreeze(builtins);
})
