/*
 * Copyright (C) collab
 *
 * The part of a workflow's globals written in JavaScript: console (with
 * arguments formatted as Node's console formats them), URL and
 * URLSearchParams, TextEncoder and TextDecoder, atob and btoa, crypto,
 * fetch's Request/Response shapes and the read-only bindings.  It runs
 * first in every execution's context, as a function given the runner's
 * native functions; they stay in this closure and are never globals.
 * It returns the bindings object and the formatter used for errors.
 */

(function (native) {
    'use strict';

    const ObjectKeys = Object.keys;
    const ObjectGetPrototypeOf = Object.getPrototypeOf;
    const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
    const ObjectGetOwnPropertyNames = Object.getOwnPropertyNames;
    const ObjectGetOwnPropertySymbols = Object.getOwnPropertySymbols;
    const ObjectPrototypeHasOwnProperty = Object.prototype.hasOwnProperty;
    const ObjectPrototypeToString = Object.prototype.toString;
    const ObjectPrototypePropertyIsEnumerable =
        Object.prototype.propertyIsEnumerable;
    const ObjectDefineProperty = Object.defineProperty;
    const ObjectFreeze = Object.freeze;
    const ObjectIs = Object.is;
    const ArrayIsArray = Array.isArray;
    const FunctionPrototypeToString = Function.prototype.toString;
    const RegExpPrototypeToString = RegExp.prototype.toString;
    const DatePrototypeToISOString = Date.prototype.toISOString;
    const DatePrototypeGetTime = Date.prototype.getTime;
    const ErrorPrototypeToString = Error.prototype.toString;
    const JSONParse = JSON.parse;
    const JSONStringify = JSON.stringify;
    const MathMax = Math.max;
    const MathMin = Math.min;
    const MathRound = Math.round;
    const MathSqrt = Math.sqrt;
    const MathFloor = Math.floor;
    const NumberIsNaN = Number.isNaN;
    const StringFromCharCode = String.fromCharCode;
    const PromiseCtor = Promise;
    const PromiseResolve = Promise.resolve.bind(Promise);
    const MapCtor = Map;
    const SetCtor = Set;
    const Uint8ArrayCtor = Uint8Array;
    const ArrayBufferCtor = ArrayBuffer;
    const TypedArrayPrototype = ObjectGetPrototypeOf(Uint8Array.prototype);
    const TypedArrayProtoToStringTag = ObjectGetOwnPropertyDescriptor(
        TypedArrayPrototype, Symbol.toStringTag).get;
    const ArrayBufferIsView = ArrayBuffer.isView;
    const MapPrototypeSize =
        ObjectGetOwnPropertyDescriptor(Map.prototype, 'size').get;
    const SetPrototypeSize =
        ObjectGetOwnPropertyDescriptor(Set.prototype, 'size').get;
    const MapPrototypeEntries = Map.prototype.entries;
    const SetPrototypeValues = Set.prototype.values;
    const ArrayBufferByteLength = ObjectGetOwnPropertyDescriptor(
        ArrayBuffer.prototype, 'byteLength').get;
    const SymbolPrototypeToString = Symbol.prototype.toString;
    const SymbolToStringTag = Symbol.toStringTag;
    const SymbolIterator = Symbol.iterator;

    function call(f, self, ...args) {
        return Reflect.apply(f, self, args);
    }

    function define(obj, name, value) {
        ObjectDefineProperty(obj, name, {
            value: value, writable: true, configurable: true,
            enumerable: false
        });
    }

    /* ---------------------------------------------------------------- */
    /* inspect: the defaults of Node's util.inspect                      */

    const kObjectType = 0;
    const kArrayType = 1;
    const kArrayExtrasType = 2;

    const identifierRe = /^[a-zA-Z_][a-zA-Z_0-9]*$/;
    const breakLength = 80;
    const compact = 3;
    const maxArrayLength = 100;
    const maxStringLength = 10000;

    function hex2(c) {
        const s = c.toString(16).toUpperCase();
        return s.length < 2 ? '0' + s : s;
    }

    function escapeChar(c, quote) {
        const code = c.charCodeAt(0);

        if (c === quote) {
            return '\\' + c;
        }

        switch (code) {
        case 0x08: return '\\b';
        case 0x09: return '\\t';
        case 0x0a: return '\\n';
        case 0x0c: return '\\f';
        case 0x0d: return '\\r';
        case 0x5c: return '\\\\';
        }

        if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
            return '\\x' + hex2(code);
        }

        /* a lone surrogate */
        return '\\u' + code.toString(16).toUpperCase();
    }

    function strEscape(str) {
        let quote = "'";

        if (str.indexOf("'") !== -1) {
            if (str.indexOf('"') === -1) {
                quote = '"';

            } else if (str.indexOf('`') === -1
                       && str.indexOf('${') === -1)
            {
                quote = '`';
            }
        }

        let out = '';
        let last = 0;

        for (let i = 0; i < str.length; i++) {
            const code = str.charCodeAt(i);
            let special = code < 0x20 || code === 0x5c
                          || (code >= 0x7f && code <= 0x9f)
                          || str[i] === quote;

            if (code >= 0xd800 && code <= 0xdfff) {
                if (code <= 0xdbff && i + 1 < str.length) {
                    const next = str.charCodeAt(i + 1);

                    if (next >= 0xdc00 && next <= 0xdfff) {
                        i++;
                        continue;
                    }
                }

                special = true;
            }

            if (special) {
                out += str.slice(last, i) + escapeChar(str[i], quote);
                last = i + 1;
            }
        }

        return quote + out + str.slice(last) + quote;
    }

    function formatNumber(n) {
        return ObjectIs(n, -0) ? '-0' : '' + n;
    }

    function formatPrimitive(ctx, value) {
        switch (typeof value) {
        case 'string': {
            let trailer = '';

            if (value.length > maxStringLength) {
                const remaining = value.length - maxStringLength;
                value = value.slice(0, maxStringLength);
                trailer = '... ' + remaining + ' more character'
                          + (remaining > 1 ? 's' : '');
            }

            if (value.length > 16
                && value.length > breakLength - ctx.indentationLvl - 4)
            {
                const lines = [];
                let start = 0;

                for (;;) {
                    const nl = value.indexOf('\n', start);

                    if (nl === -1 || nl === value.length - 1) {
                        lines.push(value.slice(start));
                        break;
                    }

                    lines.push(value.slice(start, nl + 1));
                    start = nl + 1;
                }

                if (lines.length > 1) {
                    const indent = ' '.repeat(ctx.indentationLvl + 2);
                    return lines.map(strEscape).join(' +\n' + indent)
                           + trailer;
                }
            }

            return strEscape(value) + trailer;
        }
        case 'number':
            return formatNumber(value);
        case 'bigint':
            return value + 'n';
        case 'boolean':
            return '' + value;
        case 'undefined':
            return 'undefined';
        case 'symbol':
            return call(SymbolPrototypeToString, value);
        }

        return '' + value;
    }

    function getConstructorName(obj) {
        let proto = obj;

        while (proto !== null) {
            const desc = ObjectGetOwnPropertyDescriptor(proto, 'constructor');

            if (desc !== undefined && typeof desc.value === 'function'
                && typeof desc.value.name === 'string'
                && desc.value.name !== '')
            {
                return desc.value.name;
            }

            proto = ObjectGetPrototypeOf(proto);
        }

        return null;
    }

    function getPrefix(constructor, tag, fallback, size) {
        size = size === undefined ? '' : size;

        if (constructor === null) {
            if (tag !== '' && fallback !== tag) {
                return '[' + fallback + size + ': null prototype] ['
                       + tag + '] ';
            }

            return '[' + fallback + size + ': null prototype] ';
        }

        if (tag !== '' && constructor !== tag) {
            return constructor + size + ' [' + tag + '] ';
        }

        return constructor + size + ' ';
    }

    function getKeys(value) {
        const keys = ObjectKeys(value);
        const symbols = ObjectGetOwnPropertySymbols(value);

        for (let i = 0; i < symbols.length; i++) {
            if (call(ObjectPrototypePropertyIsEnumerable, value, symbols[i]))
            {
                keys.push(symbols[i]);
            }
        }

        return keys;
    }

    function isIndex(key) {
        if (typeof key !== 'string' || key === '') {
            return false;
        }

        const n = +key;

        return n >= 0 && n < 4294967295 && '' + (n >>> 0) === key;
    }

    function classOf(value) {
        return call(ObjectPrototypeToString, value).slice(8, -1);
    }

    function isError(value) {
        return value instanceof Error || classOf(value) === 'Error';
    }

    function isTypedArray(value) {
        return ArrayBufferIsView(value)
               && call(TypedArrayProtoToStringTag, value) !== undefined;
    }

    function isClass(fn) {
        try {
            return /^class\b/.test(call(FunctionPrototypeToString, fn));

        } catch (e) {
            return false;
        }
    }

    function getFunctionBase(value, constructor, tag) {
        const source = (function () {
            try {
                return call(FunctionPrototypeToString, value);

            } catch (e) {
                return '';
            }
        })();

        if (/^class\b/.test(source)) {
            let base = '[class ' + (value.name || '(anonymous)');
            const m = /^class\s+[^{]*?\bextends\s+([^{\s]+)/.exec(source);

            if (m) {
                base += ' extends ' + m[1];
            }

            return base + ']';
        }

        let type = 'Function';

        if (/^async\s+function\s*\*/.test(source)) {
            type = 'AsyncGeneratorFunction';

        } else if (/^function\s*\*/.test(source)) {
            type = 'GeneratorFunction';

        } else if (/^async\b/.test(source)) {
            type = 'AsyncFunction';
        }

        let base = '[' + type;

        if (constructor === null) {
            base += ' (null prototype)';
        }

        if (value.name === '' || typeof value.name !== 'string') {
            base += ' (anonymous)';

        } else {
            base += ': ' + value.name;
        }

        base += ']';

        if (constructor !== type && constructor !== null
            && constructor !== 'Function')
        {
            base += ' ' + constructor;
        }

        if (tag !== '' && constructor !== tag) {
            base += ' [' + tag + ']';
        }

        return base;
    }

    function errorStack(err) {
        let name, message, stack;

        try {
            name = err.name === undefined ? 'Error' : '' + err.name;
            message = err.message === undefined ? '' : '' + err.message;
            stack = typeof err.stack === 'string' ? err.stack : '';

        } catch (e) {
            return call(ErrorPrototypeToString, err);
        }

        let head = message === '' ? name : name + ': ' + message;

        /* in the workflow's own positions, without the runtime's frames */
        stack = native.mapStack(stack);

        if (stack !== '') {
            head += '\n' + stack;
        }

        return head;
    }

    function formatError(err, constructor, tag, ctx, keys) {
        let base = errorStack(err);

        /* own name and message are part of the stack already */
        for (let i = keys.length - 1; i >= 0; i--) {
            if (keys[i] === 'name' || keys[i] === 'message'
                || keys[i] === 'stack')
            {
                keys.splice(i, 1);
            }
        }

        if (constructor === null) {
            base = '[' + base + ']';
        }

        if (ctx.indentationLvl !== 0) {
            base = base.split('\n').join('\n'
                                         + ' '.repeat(ctx.indentationLvl));
        }

        return base;
    }

    function formatValue(ctx, value, recurseTimes) {
        if (typeof value !== 'object' && typeof value !== 'function') {
            return formatPrimitive(ctx, value);
        }

        if (value === null) {
            return 'null';
        }

        if (ctx.seen.indexOf(value) !== -1) {
            let index = 1;

            if (ctx.circular === undefined) {
                ctx.circular = new MapCtor();
                ctx.circular.set(value, index);

            } else {
                index = ctx.circular.get(value);

                if (index === undefined) {
                    index = ctx.circular.size + 1;
                    ctx.circular.set(value, index);
                }
            }

            return '[Circular *' + index + ']';
        }

        return formatRaw(ctx, value, recurseTimes);
    }

    function formatRaw(ctx, value, recurseTimes) {
        let keys;
        let constructor;
        let tag;
        let base = '';
        let braces;
        let formatter = formatNothing;
        let extrasType = kObjectType;
        let noIterator = true;

        try {
            constructor = getConstructorName(value);
            tag = value[SymbolToStringTag];

        } catch (e) {
            constructor = null;
            tag = '';
        }

        if (typeof tag !== 'string'
            || (tag !== '' && (constructor === tag)))
        {
            tag = '';
        }

        keys = getKeys(value);

        if (ArrayIsArray(value)) {
            noIterator = false;
            keys = keys.filter(function (k) { return !isIndex(k); });

            const prefix = (constructor !== 'Array' || tag !== '')
                           ? getPrefix(constructor, tag, 'Array',
                                       '(' + value.length + ')')
                           : '';

            braces = [prefix + '[', ']'];

            if (value.length === 0 && keys.length === 0) {
                return braces[0] + ']';
            }

            extrasType = kArrayExtrasType;
            formatter = formatArray;

        } else if (value instanceof SetCtor) {
            noIterator = false;
            const size = call(SetPrototypeSize, value);
            const prefix = getPrefix(constructor, tag, 'Set',
                                     '(' + size + ')');

            if (size === 0 && keys.length === 0) {
                return prefix + '{}';
            }

            braces = [prefix + '{', '}'];
            formatter = formatSet;

        } else if (value instanceof MapCtor) {
            noIterator = false;
            const size = call(MapPrototypeSize, value);
            const prefix = getPrefix(constructor, tag, 'Map',
                                     '(' + size + ')');

            if (size === 0 && keys.length === 0) {
                return prefix + '{}';
            }

            braces = [prefix + '{', '}'];
            formatter = formatMap;

        } else if (isTypedArray(value)) {
            noIterator = false;
            keys = keys.filter(function (k) { return !isIndex(k); });

            const fallback = call(TypedArrayProtoToStringTag, value);
            const prefix = getPrefix(constructor, tag, fallback,
                                     '(' + value.length + ')');

            braces = [prefix + '[', ']'];

            if (value.length === 0 && keys.length === 0) {
                return braces[0] + ']';
            }

            extrasType = kArrayExtrasType;
            formatter = formatTypedArray;
        }

        if (noIterator) {
            braces = ['{', '}'];

            if (constructor === 'Object' && classOf(value) === 'Arguments') {
                braces[0] = '[Arguments] [';
                braces[1] = ']';
                extrasType = kArrayExtrasType;
                formatter = formatArray;
                keys = keys.filter(function (k) { return !isIndex(k); });

                if (value.length === 0 && keys.length === 0) {
                    return '[Arguments] []';
                }

            } else if (constructor === 'Object') {
                if (tag !== '') {
                    braces[0] = getPrefix(constructor, tag, 'Object') + '{';
                }

                if (keys.length === 0) {
                    return braces[0] + '}';
                }

            } else if (typeof value === 'function') {
                base = getFunctionBase(value, constructor, tag);

                if (keys.length === 0) {
                    return base;
                }

            } else if (value instanceof RegExp
                       || classOf(value) === 'RegExp')
            {
                base = call(RegExpPrototypeToString, value);

                const prefix = getPrefix(constructor, tag, 'RegExp');

                if (prefix !== 'RegExp ') {
                    base = prefix + base;
                }

                if (keys.length === 0) {
                    return base;
                }

            } else if (value instanceof Date || classOf(value) === 'Date') {
                const time = call(DatePrototypeGetTime, value);

                base = NumberIsNaN(time)
                       ? 'Invalid Date'
                       : call(DatePrototypeToISOString, value);

                const prefix = getPrefix(constructor, tag, 'Date');

                if (prefix !== 'Date ') {
                    base = prefix + base;
                }

                if (keys.length === 0) {
                    return base;
                }

            } else if (isError(value)) {
                base = formatError(value, constructor, tag, ctx, keys);

                if (keys.length === 0) {
                    return base;
                }

            } else if (value instanceof ArrayBufferCtor) {
                const prefix = getPrefix(constructor, tag, 'ArrayBuffer');

                keys.unshift('byteLength');
                braces[0] = prefix + '{';
                formatter = formatArrayBuffer;

            } else if (value instanceof PromiseCtor) {
                braces[0] = getPrefix(constructor, tag, 'Promise') + '{';
                formatter = formatPromise;

            } else if (value instanceof WeakSet || value instanceof WeakMap)
            {
                braces[0] = getPrefix(constructor, tag,
                                      value instanceof WeakSet
                                      ? 'WeakSet' : 'WeakMap') + '{';
                formatter = formatWeak;

            } else if (value instanceof Number || value instanceof String
                       || value instanceof Boolean
                       || value instanceof Symbol
                       || value instanceof BigInt)
            {
                let type, primitive;

                primitive = value.valueOf();
                type = typeof primitive;
                type = type[0].toUpperCase() + type.slice(1);

                if (type === 'Bigint') {
                    type = 'BigInt';
                }

                base = '[' + type;

                if (type !== constructor) {
                    base += constructor === null ? ' (null prototype)'
                                                 : ' (' + constructor + ')';
                }

                base += ': ' + formatPrimitive({ indentationLvl: 0 },
                                               primitive) + ']';

                if (type === 'String') {
                    keys = keys.filter(function (k) { return !isIndex(k); });
                }

                if (tag !== '' && tag !== constructor) {
                    base += ' [' + tag + ']';
                }

                if (keys.length === 0) {
                    return base;
                }

            } else {
                if (keys.length === 0) {
                    return getPrefix(constructor, tag, 'Object') + '{}';
                }

                braces[0] = getPrefix(constructor, tag, 'Object') + '{';
            }
        }

        if (recurseTimes > ctx.depth && ctx.depth !== null) {
            let name = getPrefix(constructor, tag, 'Object').slice(0, -1);

            if (ArrayIsArray(value) && constructor === 'Array') {
                name = 'Array';
            }

            return constructor !== null ? '[' + name + ']' : name;
        }

        recurseTimes += 1;
        ctx.seen.push(value);
        ctx.currentDepth = recurseTimes;

        let output;

        try {
            output = formatter(ctx, value, recurseTimes);

            for (let i = 0; i < keys.length; i++) {
                output.push(formatProperty(ctx, value, recurseTimes, keys[i],
                                           extrasType));
            }

        } finally {
            ctx.seen.pop();
        }

        if (ctx.circular !== undefined) {
            const index = ctx.circular.get(value);

            if (index !== undefined) {
                const reference = '<ref *' + index + '>';
                base = base === '' ? reference : reference + ' ' + base;
            }
        }

        return reduceToSingleString(ctx, output, base, braces, extrasType,
                                    recurseTimes, value);
    }

    function formatNothing() {
        return [];
    }

    function formatArray(ctx, value, recurseTimes) {
        const length = value.length;
        const len = MathMin(maxArrayLength, length);
        const output = [];
        let holes = 0;

        function flushHoles() {
            if (holes > 0) {
                output.push('<' + holes + ' empty item'
                            + (holes > 1 ? 's' : '') + '>');
                holes = 0;
            }
        }

        let shown = 0;

        for (let i = 0; i < length && shown < len; i++) {
            if (!call(ObjectPrototypeHasOwnProperty, value, i)) {
                holes++;
                continue;
            }

            if (holes > 0) {
                flushHoles();
                shown++;

                if (shown >= len) {
                    break;
                }
            }

            output.push(formatProperty(ctx, value, recurseTimes, i,
                                       kArrayExtrasType));
            shown++;
        }

        flushHoles();

        const remaining = length - len;

        if (remaining > 0 && output.length >= len) {
            output.push('... ' + remaining + ' more item'
                        + (remaining > 1 ? 's' : ''));
        }

        return output;
    }

    function formatTypedArray(ctx, value, recurseTimes) {
        const length = value.length;
        const len = MathMin(maxArrayLength, length);
        const output = [];

        for (let i = 0; i < len; i++) {
            const v = value[i];
            output.push(typeof v === 'bigint' ? v + 'n' : formatNumber(v));
        }

        if (length > len) {
            const remaining = length - len;
            output.push('... ' + remaining + ' more item'
                        + (remaining > 1 ? 's' : ''));
        }

        return output;
    }

    function formatSet(ctx, value, recurseTimes) {
        const output = [];
        const it = call(SetPrototypeValues, value);

        ctx.indentationLvl += 2;

        for (let r = it.next(); !r.done; r = it.next()) {
            output.push(formatValue(ctx, r.value, recurseTimes));
        }

        ctx.indentationLvl -= 2;

        return output;
    }

    function formatMap(ctx, value, recurseTimes) {
        const output = [];
        const it = call(MapPrototypeEntries, value);

        ctx.indentationLvl += 2;

        for (let r = it.next(); !r.done; r = it.next()) {
            output.push(formatValue(ctx, r.value[0], recurseTimes) + ' => '
                        + formatValue(ctx, r.value[1], recurseTimes));
        }

        ctx.indentationLvl -= 2;

        return output;
    }

    function formatArrayBuffer(ctx, value) {
        const bytes = new Uint8ArrayCtor(value, 0,
                                         MathMin(50, call(ArrayBufferByteLength,
                                                          value)));
        let str = '';

        for (let i = 0; i < bytes.length; i++) {
            str += (i ? ' ' : '') + hex2(bytes[i]).toLowerCase();
        }

        const remaining = call(ArrayBufferByteLength, value) - bytes.length;

        if (remaining > 0) {
            str += ' ... ' + remaining + ' more byte'
                   + (remaining > 1 ? 's' : '');
        }

        return ['[Uint8Contents]: <' + str + '>'];
    }

    function formatPromise(ctx, value, recurseTimes) {
        const state = native.promiseState(value);

        if (state === 0) {
            return ['<pending>'];
        }

        ctx.indentationLvl += 2;
        const str = formatValue(ctx, native.promiseResult(value),
                                recurseTimes);
        ctx.indentationLvl -= 2;

        return [state === 2 ? '<rejected> ' + str : str];
    }

    function formatWeak() {
        return ['<items unknown>'];
    }

    function formatProperty(ctx, value, recurseTimes, key, type) {
        let name, str;
        const desc = ObjectGetOwnPropertyDescriptor(value, key)
                     || { value: value[key], enumerable: true };

        if (desc.value !== undefined) {
            ctx.indentationLvl += 2;
            str = formatValue(ctx, desc.value, recurseTimes);
            ctx.indentationLvl -= 2;

        } else if (desc.get !== undefined) {
            str = desc.set !== undefined ? '[Getter/Setter]' : '[Getter]';

        } else if (desc.set !== undefined) {
            str = '[Setter]';

        } else {
            str = 'undefined';
        }

        if (type === kArrayExtrasType) {
            return str;
        }

        if (typeof key === 'symbol') {
            name = '[' + call(SymbolPrototypeToString, key) + ']';

        } else if (key === '__proto__') {
            name = "['__proto__']";

        } else if (desc.enumerable === false) {
            name = '[' + key + ']';

        } else if (identifierRe.test(key)) {
            name = key;

        } else {
            name = strEscape(key);
        }

        return name + ': ' + str;
    }

    function groupArrayElements(ctx, output, value) {
        let totalLength = 0;
        let maxLength = 0;
        let outputLength = output.length;

        /* the "... more items" entry stays apart */
        if (value !== undefined && value.length > maxArrayLength
            && outputLength > maxArrayLength)
        {
            outputLength--;
        }

        const separatorSpace = 2;
        const dataLen = [];

        for (let i = 0; i < outputLength; i++) {
            const len = output[i].length;
            dataLen[i] = len;
            totalLength += len + separatorSpace;

            if (maxLength < len) {
                maxLength = len;
            }
        }

        const actualMax = maxLength + separatorSpace;

        if (actualMax * 3 + ctx.indentationLvl < breakLength
            && (totalLength / actualMax > 5 || maxLength <= 6))
        {
            const averageBias = MathSqrt(actualMax
                                         - totalLength / output.length);
            const biasedMax = MathMax(actualMax - 3 - averageBias, 1);
            const columns = MathMin(
                MathRound(MathSqrt(2.5 * biasedMax * outputLength)
                          / biasedMax),
                MathFloor((breakLength - ctx.indentationLvl) / actualMax),
                compact * 4,
                15);

            if (columns <= 1) {
                return output;
            }

            const tmp = [];
            const maxLineLength = [];

            for (let i = 0; i < columns; i++) {
                let lineLength = 0;

                for (let j = i; j < output.length; j += columns) {
                    if (dataLen[j] > lineLength) {
                        lineLength = dataLen[j];
                    }
                }

                maxLineLength.push(lineLength + separatorSpace);
            }

            let padStart = true;

            if (value !== undefined) {
                for (let i = 0; i < output.length; i++) {
                    if (typeof value[i] !== 'number'
                        && typeof value[i] !== 'bigint')
                    {
                        padStart = false;
                        break;
                    }
                }
            }

            for (let i = 0; i < outputLength; i += columns) {
                const max = MathMin(i + columns, outputLength);
                let str = '';
                let j = i;

                for (; j < max - 1; j++) {
                    const cell = output[j] + ', ';
                    const width = maxLineLength[j - i];
                    str += padStart ? cell.padStart(width, ' ')
                                    : cell.padEnd(width, ' ');
                }

                if (padStart) {
                    str += output[j].padStart(maxLineLength[j - i]
                                              - separatorSpace, ' ');

                } else {
                    str += output[j];
                }

                tmp.push(str);
            }

            if (outputLength < output.length) {
                tmp.push(output[outputLength]);
            }

            output = tmp;
        }

        return output;
    }

    function isBelowBreakLength(ctx, output, start, base) {
        let totalLength = output.length + start;

        if (totalLength + output.length > breakLength) {
            return false;
        }

        for (let i = 0; i < output.length; i++) {
            totalLength += output[i].length;

            if (totalLength > breakLength) {
                return false;
            }
        }

        return base === '' || base.indexOf('\n') === -1;
    }

    function reduceToSingleString(ctx, output, base, braces, extrasType,
                                  recurseTimes, value)
    {
        const entries = output.length;

        if (extrasType === kArrayExtrasType && entries > 6) {
            output = groupArrayElements(ctx, output, value);
        }

        if (ctx.currentDepth - recurseTimes < compact
            && entries === output.length)
        {
            const start = output.length + ctx.indentationLvl
                          + braces[0].length + base.length + 10;

            if (isBelowBreakLength(ctx, output, start, base)) {
                const joined = output.join(', ');

                if (joined.indexOf('\n') === -1) {
                    return (base ? base + ' ' : '') + braces[0] + ' '
                           + joined + ' ' + braces[1];
                }
            }
        }

        const indentation = '\n' + ' '.repeat(ctx.indentationLvl);

        return (base ? base + ' ' : '') + braces[0] + indentation + '  '
               + output.join(',' + indentation + '  ') + indentation
               + braces[1];
    }

    function inspect(value, depth) {
        const ctx = {
            seen: [],
            circular: undefined,
            indentationLvl: 0,
            currentDepth: 0,
            depth: depth === undefined ? 2 : depth
        };

        return formatValue(ctx, value, 0);
    }

    function formatArg(arg) {
        return typeof arg === 'string' ? arg : inspect(arg);
    }

    function format(args) {
        const first = args[0];
        let a = 0;
        let str = '';

        if (typeof first === 'string' && args.length > 1) {
            let last = 0;
            a = 1;

            for (let i = 0; i < first.length - 1; i++) {
                if (first.charCodeAt(i) !== 37) {           /* '%' */
                    continue;
                }

                const c = first[i + 1];
                let piece;

                if (a < args.length) {
                    const arg = args[a];

                    switch (c) {
                    case 's':
                        if (typeof arg === 'number') {
                            piece = formatNumber(arg);

                        } else if (typeof arg === 'bigint') {
                            piece = arg + 'n';

                        } else if (typeof arg === 'object' && arg !== null) {
                            piece = inspect(arg, 0);

                        } else {
                            piece = '' + (typeof arg === 'symbol'
                                          ? call(SymbolPrototypeToString,
                                                 arg)
                                          : arg);
                        }
                        break;
                    case 'j':
                        try {
                            piece = JSONStringify(arg);

                        } catch (e) {
                            piece = '[Circular]';
                        }
                        break;
                    case 'd':
                        piece = typeof arg === 'bigint' ? arg + 'n'
                                : typeof arg === 'symbol' ? 'NaN'
                                : formatNumber(Number(arg));
                        break;
                    case 'i':
                        piece = typeof arg === 'bigint' ? arg + 'n'
                                : typeof arg === 'symbol' ? 'NaN'
                                : formatNumber(parseInt(arg));
                        break;
                    case 'f':
                        piece = typeof arg === 'symbol' ? 'NaN'
                                : formatNumber(parseFloat(arg));
                        break;
                    case 'o':
                        piece = inspect(arg, 4);
                        break;
                    case 'O':
                        piece = inspect(arg);
                        break;
                    case 'c':
                        piece = '';
                        break;
                    case '%':
                        str += first.slice(last, i);
                        last = i + 1;
                        i++;
                        continue;
                    default:
                        continue;
                    }

                    if (last !== i) {
                        str += first.slice(last, i);
                    }

                    str += piece;
                    last = i + 2;
                    i++;
                    a++;

                } else if (c === '%') {
                    str += first.slice(last, i);
                    last = i + 1;
                    i++;
                }
            }

            str += first.slice(last);

            if (a < args.length) {
                str += ' ';
            }
        }

        for (; a < args.length; a++) {
            str += formatArg(args[a]) + (a < args.length - 1 ? ' ' : '');
        }

        return str;
    }

    const console = {};

    ['log', 'info', 'warn', 'error', 'debug'].forEach(function (level) {
        define(console, level, {
            [level](...args) {
                native.log(level, format(args));
            }
        }[level]);
    });

    define(globalThis, 'console', console);

    /* ---------------------------------------------------------------- */
    /* timers and crypto                                                 */

    define(globalThis, 'setTimeout', native.setTimeout);
    define(globalThis, 'clearTimeout', native.clearTimeout);

    const crypto = {};

    define(crypto, 'randomUUID', function randomUUID() {
        return native.randomUUID();
    });

    define(crypto, 'getRandomValues', function getRandomValues(array) {
        if (!isTypedArray(array) || array instanceof Float32Array
            || array instanceof Float64Array)
        {
            throw new TypeError('crypto.getRandomValues: an integer typed '
                                + 'array is expected');
        }

        if (array.byteLength > 65536) {
            throw new RangeError('crypto.getRandomValues: at most 65536 '
                                 + 'bytes at a time');
        }

        native.randomFill(array);

        return array;
    });

    define(globalThis, 'crypto', crypto);

    /* ---------------------------------------------------------------- */
    /* TextEncoder, TextDecoder, atob, btoa                              */

    class TextEncoder {
        get encoding() {
            return 'utf-8';
        }

        encode(input) {
            return native.utf8Encode(input === undefined ? '' : '' + input);
        }

        encodeInto(source, destination) {
            if (!(destination instanceof Uint8ArrayCtor)) {
                throw new TypeError('TextEncoder.encodeInto: a Uint8Array '
                                    + 'is expected');
            }

            source = '' + source;

            let read = 0;
            let written = 0;

            for (const ch of source) {
                const bytes = native.utf8Encode(ch);

                if (written + bytes.length > destination.length) {
                    break;
                }

                destination.set(bytes, written);
                written += bytes.length;
                read += ch.length;
            }

            return { read: read, written: written };
        }
    }

    function bufferBytes(input, what) {
        if (input instanceof ArrayBufferCtor) {
            return new Uint8ArrayCtor(input);
        }

        if (ArrayBufferIsView(input)) {
            return new Uint8ArrayCtor(input.buffer, input.byteOffset,
                                      input.byteLength);
        }

        throw new TypeError(what + ': an ArrayBuffer or a view of one is '
                            + 'expected');
    }

    class TextDecoder {
        #fatal;
        #ignoreBOM;

        constructor(label, options) {
            label = label === undefined ? 'utf-8'
                                        : ('' + label).trim().toLowerCase();

            if (label !== 'utf-8' && label !== 'utf8'
                && label !== 'unicode-1-1-utf-8')
            {
                throw new RangeError('TextDecoder: the encoding "' + label
                                     + '" is not supported');
            }

            this.#fatal = !!(options && options.fatal);
            this.#ignoreBOM = !!(options && options.ignoreBOM);
        }

        get encoding() {
            return 'utf-8';
        }

        get fatal() {
            return this.#fatal;
        }

        get ignoreBOM() {
            return this.#ignoreBOM;
        }

        decode(input) {
            if (input === undefined) {
                return '';
            }

            return native.utf8Decode(bufferBytes(input, 'TextDecoder.decode'),
                                     this.#fatal, this.#ignoreBOM);
        }
    }

    define(globalThis, 'TextEncoder', TextEncoder);
    define(globalThis, 'TextDecoder', TextDecoder);

    const b64 =
        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

    function invalidCharacter(what) {
        const e = new Error(what);
        e.name = 'InvalidCharacterError';
        return e;
    }

    define(globalThis, 'btoa', function btoa(data) {
        if (arguments.length === 0) {
            throw new TypeError('btoa: 1 argument required');
        }

        data = '' + data;

        let out = '';

        for (let i = 0; i < data.length; i += 3) {
            const a = data.charCodeAt(i);
            const b = i + 1 < data.length ? data.charCodeAt(i + 1) : 0;
            const c = i + 2 < data.length ? data.charCodeAt(i + 2) : 0;

            if (a > 255 || b > 255 || c > 255) {
                throw invalidCharacter('btoa: the string contains characters '
                                       + 'outside of Latin1');
            }

            const v = a << 16 | b << 8 | c;

            out += b64[v >> 18] + b64[(v >> 12) & 63]
                   + (i + 1 < data.length ? b64[(v >> 6) & 63] : '=')
                   + (i + 2 < data.length ? b64[v & 63] : '=');
        }

        return out;
    });

    define(globalThis, 'atob', function atob(data) {
        if (arguments.length === 0) {
            throw new TypeError('atob: 1 argument required');
        }

        data = ('' + data).replace(/[\t\n\f\r ]/g, '');

        if (data.length % 4 === 0) {
            data = data.replace(/==?$/, '');
        }

        if (data.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(data)) {
            throw invalidCharacter('atob: the string is not correctly '
                                   + 'encoded');
        }

        let out = '';
        let v = 0;
        let bits = 0;

        for (let i = 0; i < data.length; i++) {
            v = (v << 6) | b64.indexOf(data[i]);
            bits += 6;

            if (bits >= 8) {
                bits -= 8;
                out += StringFromCharCode((v >> bits) & 255);
            }
        }

        return out;
    });

    /* ---------------------------------------------------------------- */
    /* URL and URLSearchParams (WHATWG URL, without IDNA)                */

    const specialPorts = {
        'ftp:': '21', 'file:': '', 'http:': '80', 'https:': '443',
        'ws:': '80', 'wss:': '443'
    };

    function isSpecial(protocol) {
        return call(ObjectPrototypeHasOwnProperty, specialPorts, protocol);
    }

    function invalidURL(input) {
        return new TypeError('Invalid URL: ' + input);
    }

    const encoder = new TextEncoder();

    function percentEncode(str, set) {
        let out = '';

        for (const ch of str) {
            const code = ch.codePointAt(0);

            if (code >= 0x20 && code < 0x7f && set.indexOf(ch) === -1) {
                out += ch;
                continue;
            }

            const bytes = encoder.encode(ch);

            for (let i = 0; i < bytes.length; i++) {
                out += '%' + hex2(bytes[i]);
            }
        }

        return out;
    }

    const fragmentSet = ' "<>`';
    const querySet = ' "#<>';
    const specialQuerySet = ' "#<>\'';
    const pathSet = ' "#<>?`{}';
    const userinfoSet = ' "#<>?`{}/:;=@[\\]^|';

    function percentDecodeBytes(str) {
        const bytes = [];
        const raw = encoder.encode(str);

        for (let i = 0; i < raw.length; i++) {
            if (raw[i] === 37 && i + 2 < raw.length
                && /^[0-9a-fA-F]{2}$/.test(StringFromCharCode(raw[i + 1],
                                                              raw[i + 2])))
            {
                bytes.push(parseInt(StringFromCharCode(raw[i + 1],
                                                       raw[i + 2]), 16));
                i += 2;

            } else {
                bytes.push(raw[i]);
            }
        }

        return new Uint8ArrayCtor(bytes);
    }

    function percentDecode(str) {
        return native.utf8Decode(percentDecodeBytes(str), false, true);
    }

    function parseIPv4Number(part) {
        if (part === '') {
            return NaN;
        }

        let radix = 10;

        if (/^0[xX]/.test(part)) {
            part = part.slice(2);
            radix = 16;

            if (part === '') {
                return 0;
            }

        } else if (part.length > 1 && part[0] === '0') {
            part = part.slice(1);
            radix = 8;
        }

        const re = radix === 16 ? /^[0-9a-fA-F]+$/
                   : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;

        if (!re.test(part)) {
            return NaN;
        }

        return parseInt(part, radix);
    }

    function endsInNumber(host) {
        const parts = host.split('.');

        if (parts[parts.length - 1] === '') {
            if (parts.length === 1) {
                return false;
            }

            parts.pop();
        }

        const last = parts[parts.length - 1];

        return /^[0-9]+$/.test(last) || !NumberIsNaN(parseIPv4Number(last));
    }

    function parseIPv4(host, input) {
        const parts = host.split('.');

        if (parts[parts.length - 1] === '' && parts.length > 1) {
            parts.pop();
        }

        if (parts.length > 4) {
            throw invalidURL(input);
        }

        const numbers = [];

        for (let i = 0; i < parts.length; i++) {
            const n = parseIPv4Number(parts[i]);

            if (NumberIsNaN(n)) {
                throw invalidURL(input);
            }

            numbers.push(n);
        }

        for (let i = 0; i < numbers.length - 1; i++) {
            if (numbers[i] > 255) {
                throw invalidURL(input);
            }
        }

        if (numbers[numbers.length - 1]
            >= Math.pow(256, 5 - numbers.length))
        {
            throw invalidURL(input);
        }

        let ipv4 = numbers[numbers.length - 1];

        for (let i = 0; i < numbers.length - 1; i++) {
            ipv4 += numbers[i] * Math.pow(256, 3 - i);
        }

        const out = [];

        for (let i = 0; i < 4; i++) {
            out.unshift('' + (ipv4 % 256));
            ipv4 = MathFloor(ipv4 / 256);
        }

        return out.join('.');
    }

    function parseIPv6(text, input) {
        const pieces = [0, 0, 0, 0, 0, 0, 0, 0];
        let index = 0;
        let compress = null;
        let i = 0;

        if (text[0] === ':') {
            if (text[1] !== ':') {
                throw invalidURL(input);
            }

            i = 2;
            index = 1;
            compress = 1;
        }

        while (i < text.length) {
            if (index === 8) {
                throw invalidURL(input);
            }

            if (text[i] === ':') {
                if (compress !== null) {
                    throw invalidURL(input);
                }

                i++;
                index++;
                compress = index;
                continue;
            }

            let value = 0;
            let length = 0;

            while (length < 4 && i < text.length
                   && /[0-9a-fA-F]/.test(text[i]))
            {
                value = value * 16 + parseInt(text[i], 16);
                i++;
                length++;
            }

            if (text[i] === '.') {
                if (length === 0 || index > 6) {
                    throw invalidURL(input);
                }

                i -= length;

                const v4 = parseIPv4(text.slice(i), input).split('.');

                if (v4.length !== 4 || !/^(\d+\.){3}\d+$/.test(text.slice(i)))
                {
                    throw invalidURL(input);
                }

                pieces[index] = +v4[0] * 256 + +v4[1];
                pieces[index + 1] = +v4[2] * 256 + +v4[3];
                index += 2;
                i = text.length;
                break;
            }

            if (text[i] === ':') {
                i++;

                if (i === text.length) {
                    throw invalidURL(input);
                }

            } else if (i < text.length) {
                throw invalidURL(input);
            }

            pieces[index] = value;
            index++;
        }

        if (compress !== null) {
            let swaps = index - compress;
            index = 7;

            while (index !== 0 && swaps > 0) {
                const t = pieces[compress + swaps - 1];
                pieces[compress + swaps - 1] = pieces[index];
                pieces[index] = t;
                index--;
                swaps--;
            }

        } else if (index !== 8) {
            throw invalidURL(input);
        }

        /* serialize: the longest run of two or more zeros becomes :: */
        let bestStart = -1;
        let bestLen = 1;

        for (let s = 0; s < 8; s++) {
            let e = s;

            while (e < 8 && pieces[e] === 0) {
                e++;
            }

            if (e - s > bestLen) {
                bestStart = s;
                bestLen = e - s;
            }
        }

        let out = '';

        for (let p = 0; p < 8; p++) {
            if (p === bestStart) {
                out += p === 0 ? '::' : ':';
                p += bestLen - 1;
                continue;
            }

            out += pieces[p].toString(16);

            if (p < 7) {
                out += ':';
            }
        }

        return '[' + out + ']';
    }

    function parseHost(host, special, input) {
        if (host[0] === '[') {
            if (host[host.length - 1] !== ']') {
                throw invalidURL(input);
            }

            return parseIPv6(host.slice(1, -1), input);
        }

        if (!special) {
            if (/[\0\t\n\r #/:<>?@[\\\]^|]/.test(host)) {
                throw invalidURL(input);
            }

            return percentEncode(host, '');
        }

        const domain = percentDecode(host).toLowerCase();

        if (domain === ''
            || /[\0-\x20#%/:<>?@[\\\]^|\x7f]/.test(domain))
        {
            throw invalidURL(input);
        }

        if (endsInNumber(domain)) {
            return parseIPv4(domain, input);
        }

        return domain;
    }

    function shortenPath(path, protocol) {
        if (protocol === 'file:' && path.length === 1
            && /^[a-zA-Z]:$/.test(path[0]))
        {
            return;
        }

        path.pop();
    }

    function isSingleDot(s) {
        return s === '.' || s.toLowerCase() === '%2e';
    }

    function isDoubleDot(s) {
        s = s.toLowerCase();
        return s === '..' || s === '.%2e' || s === '%2e.' || s === '%2e%2e';
    }

    function parsePath(text, special, path, protocol) {
        const segments = special ? text.split(/[/\\]/) : text.split('/');

        for (let i = 0; i < segments.length; i++) {
            const seg = segments[i];
            const last = i === segments.length - 1;

            if (isDoubleDot(seg)) {
                shortenPath(path, protocol);

                if (last) {
                    path.push('');
                }

            } else if (isSingleDot(seg)) {
                if (last) {
                    path.push('');
                }

            } else {
                path.push(percentEncode(seg, pathSet));
            }
        }
    }

    /* url record: protocol, username, password, host (null: none), port,
       path (array, or a string for an opaque path), query, fragment */

    function parseURL(input, base) {
        const original = input;

        input = ('' + input).replace(/^[\0-\x20]+|[\0-\x20]+$/g, '')
                            .replace(/[\t\n\r]/g, '');

        const url = {
            protocol: '', username: '', password: '', host: null, port: '',
            path: [], query: null, fragment: null
        };

        let rest = input;
        const hash = rest.indexOf('#');

        if (hash !== -1) {
            url.fragment = percentEncode(rest.slice(hash + 1), fragmentSet);
            rest = rest.slice(0, hash);
        }

        const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(rest);

        if (m) {
            url.protocol = m[1].toLowerCase() + ':';
            rest = rest.slice(m[0].length);
            const special = isSpecial(url.protocol);

            if (special && base && base.protocol === url.protocol
                && !/^[/\\]/.test(rest) && url.protocol !== 'file:')
            {
                return parseRelative(url, rest, base, original);
            }

            if (special) {
                rest = rest.replace(/^[/\\]*/, '');
                return parseAuthority(url, rest, original);
            }

            if (rest.slice(0, 2) === '//') {
                return parseAuthority(url, rest.slice(2), original);
            }

            splitQuery(url, rest);

            if (url.path.length === 0 || url.path[0] !== '/') {
                url.path = percentEncode(url.path, '');
                return url;
            }

            const path = [];
            parsePath(url.path.slice(1), false, path, url.protocol);
            url.path = path;

            return url;
        }

        if (!base) {
            throw invalidURL(original);
        }

        if (typeof base.path === 'string') {
            if (hash === -1 || rest !== '') {
                throw invalidURL(original);
            }

            url.protocol = base.protocol;
            url.path = base.path;
            url.query = base.query;
            return url;
        }

        url.protocol = base.protocol;

        return parseRelative(url, rest, base, original);
    }

    function splitQuery(url, rest) {
        const q = rest.indexOf('?');

        if (q !== -1) {
            url.query = percentEncode(rest.slice(q + 1),
                                      isSpecial(url.protocol)
                                      ? specialQuerySet : querySet);
            rest = rest.slice(0, q);
        }

        url.path = rest;
    }

    function parseRelative(url, rest, base, original) {
        const special = isSpecial(url.protocol);
        const slash = special ? /^[/\\]{2}/ : /^\/\//;

        if (slash.test(rest)) {
            return parseAuthority(url, rest.slice(2), original);
        }

        url.username = base.username;
        url.password = base.password;
        url.host = base.host;
        url.port = base.port;

        splitQuery(url, rest);
        rest = url.path;

        if (rest === '') {
            url.path = base.path.slice();

            if (url.query === null) {
                url.query = base.query;
            }

            return url;
        }

        const path = [];

        if (special ? /^[/\\]/.test(rest) : rest[0] === '/') {
            parsePath(rest.slice(1), special, path, url.protocol);

        } else {
            for (let i = 0; i < base.path.length; i++) {
                path.push(base.path[i]);
            }

            path.pop();
            parsePath(rest, special, path, url.protocol);
        }

        url.path = path;

        return url;
    }

    function parseAuthority(url, rest, original) {
        const special = isSpecial(url.protocol);
        const end = special ? rest.search(/[/\\?]/) : rest.search(/[/?]/);
        let authority = end === -1 ? rest : rest.slice(0, end);

        rest = end === -1 ? '' : rest.slice(end);

        const at = authority.lastIndexOf('@');

        if (at !== -1) {
            const userinfo = authority.slice(0, at);
            const colon = userinfo.indexOf(':');

            authority = authority.slice(at + 1);

            if (colon === -1) {
                url.username = percentEncode(userinfo, userinfoSet);

            } else {
                url.username = percentEncode(userinfo.slice(0, colon),
                                             userinfoSet);
                url.password = percentEncode(userinfo.slice(colon + 1),
                                             userinfoSet);
            }
        }

        let host = authority;
        const pm = /:([^:\]]*)$/.exec(authority);

        if (pm) {
            host = authority.slice(0, pm.index);

            if (pm[1] !== '') {
                if (!/^[0-9]+$/.test(pm[1]) || +pm[1] > 65535) {
                    throw invalidURL(original);
                }

                url.port = '' + +pm[1];

                if (specialPorts[url.protocol] === url.port) {
                    url.port = '';
                }
            }
        }

        if (host === '') {
            if (special && url.protocol !== 'file:') {
                throw invalidURL(original);
            }

            url.host = '';

        } else {
            url.host = parseHost(host, special, original);
        }

        splitQuery(url, rest);
        rest = url.path;

        const path = [];

        if (rest !== '') {
            parsePath(rest.replace(special ? /^[/\\]/ : /^\//, ''), special,
                      path, url.protocol);

        } else if (special) {
            path.push('');
        }

        url.path = path;

        return url;
    }

    function serializePath(url) {
        if (typeof url.path === 'string') {
            return url.path;
        }

        let out = '';

        if (url.host === null && url.path.length > 1 && url.path[0] === '')
        {
            out += '/.';
        }

        for (let i = 0; i < url.path.length; i++) {
            out += '/' + url.path[i];
        }

        return out;
    }

    function serializeURL(url, excludeFragment) {
        let out = url.protocol;

        if (url.host !== null) {
            out += '//';

            if (url.username !== '' || url.password !== '') {
                out += url.username;

                if (url.password !== '') {
                    out += ':' + url.password;
                }

                out += '@';
            }

            out += url.host;

            if (url.port !== '') {
                out += ':' + url.port;
            }
        }

        out += serializePath(url);

        if (url.query !== null) {
            out += '?' + url.query;
        }

        if (!excludeFragment && url.fragment !== null) {
            out += '#' + url.fragment;
        }

        return out;
    }

    function formEncode(str) {
        let out = '';
        const bytes = encoder.encode(str);

        for (let i = 0; i < bytes.length; i++) {
            const b = bytes[i];

            if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a)
                || (b >= 0x61 && b <= 0x7a) || b === 0x2a || b === 0x2d
                || b === 0x2e || b === 0x5f)
            {
                out += StringFromCharCode(b);

            } else if (b === 0x20) {
                out += '+';

            } else {
                out += '%' + hex2(b);
            }
        }

        return out;
    }

    function formDecode(str) {
        return percentDecode(str.replace(/\+/g, ' '));
    }

    function parseForm(query) {
        const list = [];

        if (query === '' || query === null) {
            return list;
        }

        const parts = query.split('&');

        for (let i = 0; i < parts.length; i++) {
            if (parts[i] === '') {
                continue;
            }

            const eq = parts[i].indexOf('=');
            const name = eq === -1 ? parts[i] : parts[i].slice(0, eq);
            const value = eq === -1 ? '' : parts[i].slice(eq + 1);

            list.push([formDecode(name), formDecode(value)]);
        }

        return list;
    }

    class URLSearchParams {
        #list;
        #url;

        constructor(init) {
            this.#list = [];
            this.#url = null;

            if (init === undefined || init === null) {
                return;
            }

            if (typeof init === 'object' || typeof init === 'function') {
                if (typeof init[SymbolIterator] === 'function') {
                    for (const pair of init) {
                        const p = [...pair];

                        if (p.length !== 2) {
                            throw new TypeError('URLSearchParams: each pair '
                                                + 'needs a name and a '
                                                + 'value');
                        }

                        this.#list.push(['' + p[0], '' + p[1]]);
                    }

                } else {
                    const keys = ObjectKeys(init);

                    for (let i = 0; i < keys.length; i++) {
                        this.#list.push([keys[i], '' + init[keys[i]]]);
                    }
                }

                return;
            }

            init = '' + init;

            if (init[0] === '?') {
                init = init.slice(1);
            }

            this.#list = parseForm(init);
        }

        static _attach(params, url, query) {
            params.#url = url;
            params.#list = parseForm(query);
        }

        static _reset(params, query) {
            params.#list = parseForm(query);
        }

        #update() {
            if (this.#url !== null) {
                urlSetQuery(this.#url, this.toString());
            }
        }

        get size() {
            return this.#list.length;
        }

        append(name, value) {
            this.#list.push(['' + name, '' + value]);
            this.#update();
        }

        delete(name, value) {
            name = '' + name;
            this.#list = this.#list.filter(function (p) {
                return p[0] !== name
                       || (value !== undefined && p[1] !== '' + value);
            });
            this.#update();
        }

        get(name) {
            name = '' + name;

            for (let i = 0; i < this.#list.length; i++) {
                if (this.#list[i][0] === name) {
                    return this.#list[i][1];
                }
            }

            return null;
        }

        getAll(name) {
            name = '' + name;

            return this.#list.filter(function (p) { return p[0] === name; })
                             .map(function (p) { return p[1]; });
        }

        has(name, value) {
            name = '' + name;

            return this.#list.some(function (p) {
                return p[0] === name
                       && (value === undefined || p[1] === '' + value);
            });
        }

        set(name, value) {
            name = '' + name;
            value = '' + value;

            let found = false;

            this.#list = this.#list.filter(function (p) {
                if (p[0] !== name) {
                    return true;
                }

                if (found) {
                    return false;
                }

                found = true;
                p[1] = value;

                return true;
            });

            if (!found) {
                this.#list.push([name, value]);
            }

            this.#update();
        }

        sort() {
            const indexed = this.#list.map(function (p, i) {
                return [p, i];
            });

            indexed.sort(function (a, b) {
                if (a[0][0] < b[0][0]) {
                    return -1;
                }

                if (a[0][0] > b[0][0]) {
                    return 1;
                }

                return a[1] - b[1];
            });

            this.#list = indexed.map(function (e) { return e[0]; });
            this.#update();
        }

        forEach(callback, thisArg) {
            for (let i = 0; i < this.#list.length; i++) {
                call(callback, thisArg, this.#list[i][1], this.#list[i][0],
                     this);
            }
        }

        *entries() {
            for (let i = 0; i < this.#list.length; i++) {
                yield [this.#list[i][0], this.#list[i][1]];
            }
        }

        *keys() {
            for (let i = 0; i < this.#list.length; i++) {
                yield this.#list[i][0];
            }
        }

        *values() {
            for (let i = 0; i < this.#list.length; i++) {
                yield this.#list[i][1];
            }
        }

        [SymbolIterator]() {
            return this.entries();
        }

        toString() {
            return this.#list.map(function (p) {
                return formEncode(p[0]) + '=' + formEncode(p[1]);
            }).join('&');
        }

        get [SymbolToStringTag]() {
            return 'URLSearchParams';
        }
    }

    const attachParams = URLSearchParams._attach;
    const resetParams = URLSearchParams._reset;

    delete URLSearchParams._attach;
    delete URLSearchParams._reset;

    let urlSetQuery;

    class URL {
        #url;
        #params;

        constructor(input, base) {
            let baseRecord;

            if (base !== undefined) {
                baseRecord = parseURL('' + base, undefined);
            }

            this.#url = parseURL('' + input, baseRecord);
            this.#params = new URLSearchParams();
            attachParams(this.#params, this, this.#url.query);
        }

        static canParse(input, base) {
            try {
                new URL(input, base);
                return true;

            } catch (e) {
                return false;
            }
        }

        static _setQuery(url, query) {
            url.#url.query = query === '' ? null : query;
        }

        get href() {
            return serializeURL(this.#url, false);
        }

        set href(value) {
            this.#url = parseURL('' + value, undefined);
            resetParams(this.#params, this.#url.query);
        }

        get origin() {
            const u = this.#url;

            if (u.protocol === 'blob:' && typeof u.path === 'string') {
                try {
                    return new URL(u.path).origin;

                } catch (e) {
                    return 'null';
                }
            }

            if (!isSpecial(u.protocol) || u.protocol === 'file:') {
                return 'null';
            }

            return u.protocol + '//' + u.host + (u.port ? ':' + u.port : '');
        }

        get protocol() {
            return this.#url.protocol;
        }

        set protocol(value) {
            const m = /^([a-zA-Z][a-zA-Z0-9+.-]*)/.exec('' + value);

            if (m && isSpecial(m[1].toLowerCase() + ':')
                     === isSpecial(this.#url.protocol))
            {
                this.#url.protocol = m[1].toLowerCase() + ':';

                if (specialPorts[this.#url.protocol] === this.#url.port) {
                    this.#url.port = '';
                }
            }
        }

        get username() {
            return this.#url.username;
        }

        set username(value) {
            if (this.#url.host !== null && this.#url.host !== '') {
                this.#url.username = percentEncode('' + value, userinfoSet);
            }
        }

        get password() {
            return this.#url.password;
        }

        set password(value) {
            if (this.#url.host !== null && this.#url.host !== '') {
                this.#url.password = percentEncode('' + value, userinfoSet);
            }
        }

        get host() {
            const u = this.#url;

            if (u.host === null) {
                return '';
            }

            return u.port === '' ? u.host : u.host + ':' + u.port;
        }

        set host(value) {
            try {
                const u = parseURL(this.#url.protocol + '//' + value,
                                   undefined);
                this.#url.host = u.host;
                this.#url.port = u.port;

            } catch (e) {
                /* an invalid host leaves the URL as it was */
            }
        }

        get hostname() {
            return this.#url.host === null ? '' : this.#url.host;
        }

        set hostname(value) {
            try {
                const u = parseURL(this.#url.protocol + '//' + value,
                                   undefined);
                this.#url.host = u.host;

            } catch (e) {
                /* an invalid host leaves the URL as it was */
            }
        }

        get port() {
            return this.#url.port;
        }

        set port(value) {
            value = '' + value;

            const m = /^[0-9]*/.exec(value)[0];

            if (value === '') {
                this.#url.port = '';

            } else if (m !== '' && +m <= 65535) {
                this.#url.port = specialPorts[this.#url.protocol] === '' + +m
                                 ? '' : '' + +m;
            }
        }

        get pathname() {
            return serializePath(this.#url);
        }

        set pathname(value) {
            if (typeof this.#url.path === 'string') {
                return;
            }

            const special = isSpecial(this.#url.protocol);
            const path = [];

            value = '' + value;
            parsePath(value.replace(special ? /^[/\\]/ : /^\//, ''),
                      special, path, this.#url.protocol);
            this.#url.path = path;
        }

        get search() {
            const q = this.#url.query;
            return q === null || q === '' ? '' : '?' + q;
        }

        set search(value) {
            value = '' + value;

            if (value[0] === '?') {
                value = value.slice(1);
            }

            this.#url.query = value === ''
                              ? null
                              : percentEncode(value,
                                              isSpecial(this.#url.protocol)
                                              ? specialQuerySet : querySet);
            resetParams(this.#params, this.#url.query);
        }

        get searchParams() {
            return this.#params;
        }

        get hash() {
            const f = this.#url.fragment;
            return f === null || f === '' ? '' : '#' + f;
        }

        set hash(value) {
            value = '' + value;

            if (value[0] === '#') {
                value = value.slice(1);
            }

            this.#url.fragment = value === ''
                                 ? null : percentEncode(value, fragmentSet);
        }

        toString() {
            return this.href;
        }

        toJSON() {
            return this.href;
        }

        get [SymbolToStringTag]() {
            return 'URL';
        }
    }

    urlSetQuery = URL._setQuery;
    delete URL._setQuery;

    define(globalThis, 'URL', URL);
    define(globalThis, 'URLSearchParams', URLSearchParams);

    /* ---------------------------------------------------------------- */
    /* fetch                                                             */

    class Headers {
        #list;

        constructor(init) {
            this.#list = [];

            if (init === undefined || init === null) {
                return;
            }

            if (init instanceof Headers) {
                init.forEach((value, name) => this.append(name, value));
                return;
            }

            if (typeof init[SymbolIterator] === 'function') {
                for (const pair of init) {
                    const p = [...pair];

                    if (p.length !== 2) {
                        throw new TypeError('Headers: each pair needs a '
                                            + 'name and a value');
                    }

                    this.append(p[0], p[1]);
                }

                return;
            }

            const keys = ObjectKeys(init);

            for (let i = 0; i < keys.length; i++) {
                this.append(keys[i], init[keys[i]]);
            }
        }

        static _list(headers) {
            return headers.#list;
        }

        append(name, value) {
            name = '' + name;
            value = ('' + value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');

            if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
                throw new TypeError('Headers: invalid header name "' + name
                                    + '"');
            }

            if (/[\0\r\n]/.test(value)) {
                throw new TypeError('Headers: invalid value of header "'
                                    + name + '"');
            }

            this.#list.push([name.toLowerCase(), value]);
        }

        delete(name) {
            name = ('' + name).toLowerCase();
            this.#list = this.#list.filter(function (p) {
                return p[0] !== name;
            });
        }

        get(name) {
            name = ('' + name).toLowerCase();

            const values = this.#list.filter(function (p) {
                return p[0] === name;
            });

            if (values.length === 0) {
                return null;
            }

            return values.map(function (p) { return p[1]; }).join(', ');
        }

        getSetCookie() {
            return this.#list.filter(function (p) {
                return p[0] === 'set-cookie';
            }).map(function (p) { return p[1]; });
        }

        has(name) {
            name = ('' + name).toLowerCase();

            return this.#list.some(function (p) { return p[0] === name; });
        }

        set(name, value) {
            this.delete(name);
            this.append(name, value);
        }

        #sorted() {
            const names = [];

            for (let i = 0; i < this.#list.length; i++) {
                if (names.indexOf(this.#list[i][0]) === -1) {
                    names.push(this.#list[i][0]);
                }
            }

            names.sort();

            return names.map((name) => [name, this.get(name)]);
        }

        forEach(callback, thisArg) {
            const sorted = this.#sorted();

            for (let i = 0; i < sorted.length; i++) {
                call(callback, thisArg, sorted[i][1], sorted[i][0], this);
            }
        }

        *entries() {
            yield* this.#sorted();
        }

        *keys() {
            for (const p of this.#sorted()) {
                yield p[0];
            }
        }

        *values() {
            for (const p of this.#sorted()) {
                yield p[1];
            }
        }

        [SymbolIterator]() {
            return this.entries();
        }

        get [SymbolToStringTag]() {
            return 'Headers';
        }
    }

    const headerList = Headers._list;

    delete Headers._list;

    const decoder = new TextDecoder();

    class Response {
        #body;
        #used;

        constructor(answer) {
            this.status = answer[0];
            this.statusText = answer[1];
            this.url = answer[2];
            this.redirected = answer[3];
            this.headers = new Headers(answer[4]);
            this.ok = this.status >= 200 && this.status <= 299;
            this.type = 'basic';
            this.#body = answer[5];
            this.#used = false;
        }

        get bodyUsed() {
            return this.#used;
        }

        #take() {
            if (this.#used) {
                throw new TypeError('Response: the body was read already');
            }

            this.#used = true;

            return this.#body;
        }

        async arrayBuffer() {
            return this.#take();
        }

        async text() {
            return decoder.decode(this.#take());
        }

        async json() {
            return JSONParse(decoder.decode(this.#take()));
        }

        async bytes() {
            return new Uint8ArrayCtor(this.#take());
        }

        clone() {
            if (this.#used) {
                throw new TypeError('Response: the body was read already');
            }

            const copy = new Response([this.status, this.statusText,
                                       this.url, this.redirected, [],
                                       this.#body.slice(0)]);
            copy.headers = new Headers(this.headers);

            return copy;
        }

        get [SymbolToStringTag]() {
            return 'Response';
        }
    }

    const methods = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST',
                     'PUT'];

    function requestBody(body, headers) {
        if (body === undefined || body === null) {
            return undefined;
        }

        if (typeof body === 'string') {
            if (!headers.has('content-type')) {
                headers.set('content-type', 'text/plain;charset=UTF-8');
            }

            return native.utf8Encode(body);
        }

        if (body instanceof URLSearchParams) {
            if (!headers.has('content-type')) {
                headers.set('content-type',
                            'application/x-www-form-urlencoded;'
                            + 'charset=UTF-8');
            }

            return native.utf8Encode(body.toString());
        }

        if (body instanceof ArrayBufferCtor || ArrayBufferIsView(body)) {
            return bufferBytes(body, 'fetch').slice();
        }

        if (!headers.has('content-type')) {
            headers.set('content-type', 'text/plain;charset=UTF-8');
        }

        return native.utf8Encode('' + body);
    }

    async function fetch(input, init) {
        let url;

        if (input instanceof URL) {
            url = input.href;

        } else if (typeof input === 'object' && input !== null
                   && typeof input.url === 'string')
        {
            url = input.url;

        } else {
            url = '' + input;
        }

        let parsed;

        try {
            parsed = new URL(url);

        } catch (e) {
            throw new TypeError('fetch: invalid URL "' + url + '"');
        }

        if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
            throw new TypeError('fetch: only http and https URLs can be '
                                + 'fetched, not "' + url + '"');
        }

        if (parsed.username !== '' || parsed.password !== '') {
            throw new TypeError('fetch: a URL with credentials cannot be '
                                + 'fetched: "' + url + '"');
        }

        parsed.hash = '';
        init = init === undefined || init === null ? {} : init;

        let method = init.method === undefined ? 'GET' : '' + init.method;

        if (methods.indexOf(method.toUpperCase()) !== -1) {
            method = method.toUpperCase();
        }

        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(method)
            || method === 'CONNECT' || method === 'TRACE'
            || method === 'TRACK')
        {
            throw new TypeError('fetch: the method "' + method
                                + '" is not allowed');
        }

        const headers = new Headers(init.headers);
        const body = requestBody(init.body, headers);

        if (body !== undefined && (method === 'GET' || method === 'HEAD')) {
            throw new TypeError('fetch: a ' + method + ' request cannot '
                                + 'have a body');
        }

        const answer = await native.fetch(parsed.href, method,
                                          headerList(headers), body);

        return new Response(answer);
    }

    define(globalThis, 'fetch', fetch);

    /* ---------------------------------------------------------------- */
    /* bindings                                                          */

    function answer(f) {
        return new PromiseCtor(function (resolve) {
            resolve(f());
        });
    }

    function parsed(text) {
        return text === null ? null : JSONParse(text);
    }

    function name(value, what) {
        if (typeof value !== 'string') {
            throw new TypeError(what + ' must be a string');
        }

        return value;
    }

    const bindings = ObjectFreeze({
        store: ObjectFreeze({
            get(store, key) {
                return answer(function () {
                    return parsed(native.storeGet(
                        name(store, 'store.get: the store name'),
                        name(key, 'store.get: the key')));
                });
            },
            getAll(store) {
                return answer(function () {
                    return parsed(native.storeGetAll(
                        name(store, 'store.getAll: the store name')));
                });
            }
        }),
        room: ObjectFreeze({
            get() {
                return answer(function () {
                    return parsed(native.roomGet());
                });
            },
            getUsers() {
                return answer(function () {
                    return parsed(native.roomUsers());
                });
            }
        }),
        files: ObjectFreeze({
            list() {
                return answer(function () {
                    return parsed(native.filesList());
                });
            }
        })
    });

    return [bindings, function describe(value) {
        if (typeof value === 'object' && value !== null && isError(value)) {
            let message;

            try {
                message = value.message === undefined ? ''
                                                      : '' + value.message;

            } catch (e) {
                message = '';
            }

            return [message, errorStack(value)];
        }

        return [typeof value === 'string' ? value : inspect(value), null];
    }];
})
