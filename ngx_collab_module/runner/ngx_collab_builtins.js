/*
 * Copyright (C) collab
 *
 * The built-ins the parts use, by name, with the helpers built on them.
 * The runtime script (ngx_collab_prelude.js) takes them before the
 * workflow runs, in a list in the order of the parameters below, and
 * calls this with them when the first part loads; every part is handed
 * the frozen object with no prototype this returns.
 */

(function (
    ObjectDefineProperty,
    ObjectFreeze,
    ObjectGetOwnPropertyDescriptor,
    ObjectKeys,
    ObjectGetPrototypeOf,
    ObjectGetOwnPropertySymbols,
    ObjectPrototypeHasOwnProperty,
    ObjectPrototypePropertyIsEnumerable,
    ObjectPrototypeToString,
    ObjectIs,
    ReflectApply,
    ArrayIsArray,
    FunctionPrototypeToString,
    RegExpPrototypeToString,
    DatePrototypeToISOString,
    DatePrototypeGetTime,
    ErrorCtor,
    ErrorPrototypeToString,
    JSONParse,
    JSONStringify,
    NumberIsNaN,
    StringFromCharCode,
    PromiseCtor,
    MapCtor,
    SetCtor,
    Uint8ArrayCtor,
    ArrayBufferCtor,
    ArrayBufferIsView,
    TypedArrayProtoToStringTag,
    MapPrototypeSize,
    SetPrototypeSize,
    MapPrototypeEntries,
    SetPrototypeValues,
    ArrayBufferByteLength,
    SymbolPrototypeToString,
    SymbolToStringTag,
    SymbolIterator,
    define)
{
    'use strict';

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

    return ObjectFreeze({
        __proto__: null,
        ObjectKeys,
        ObjectGetPrototypeOf,
        ObjectGetOwnPropertyDescriptor,
        ObjectGetOwnPropertySymbols,
        ObjectPrototypeHasOwnProperty,
        ObjectPrototypePropertyIsEnumerable,
        ObjectIs,
        ArrayIsArray,
        FunctionPrototypeToString,
        RegExpPrototypeToString,
        DatePrototypeToISOString,
        DatePrototypeGetTime,
        ErrorPrototypeToString,
        JSONParse,
        JSONStringify,
        NumberIsNaN,
        StringFromCharCode,
        PromiseCtor,
        MapCtor,
        SetCtor,
        Uint8ArrayCtor,
        ArrayBufferCtor,
        ArrayBufferIsView,
        TypedArrayProtoToStringTag,
        MapPrototypeSize,
        SetPrototypeSize,
        MapPrototypeEntries,
        SetPrototypeValues,
        ArrayBufferByteLength,
        SymbolPrototypeToString,
        SymbolToStringTag,
        SymbolIterator,
        call,
        define,
        hex2,
        classOf,
        isError,
        isTypedArray
    });
})
