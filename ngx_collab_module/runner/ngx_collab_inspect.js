/*
 * Copyright (C) collab
 *
 * The workflow console's formatting, as Node's console.log formats its
 * arguments: util.format's %s %d %i %f %j %o %O %c, and util.inspect's
 * defaults for every other value (depth 2, 80 columns, compact 3, arrays
 * grouped in columns, circular references marked).  Loaded by the
 * runtime script (ngx_collab_prelude.js) the first time a message needs
 * it; returns { inspect, format, describe }.
 */

(function (native, lib, builtins) {
    'use strict';

    /* the built-ins as they were before the workflow ran */
    const {
        ObjectKeys, ObjectGetPrototypeOf, ObjectGetOwnPropertyDescriptor,
        ObjectGetOwnPropertySymbols, ObjectPrototypeHasOwnProperty,
        ObjectPrototypePropertyIsEnumerable, ObjectIs, ArrayIsArray,
        FunctionPrototypeToString, RegExpPrototypeToString,
        DatePrototypeToISOString, DatePrototypeGetTime,
        ErrorPrototypeToString, JSONStringify, NumberIsNaN, PromiseCtor,
        MapCtor, SetCtor, Uint8ArrayCtor, ArrayBufferCtor,
        TypedArrayProtoToStringTag,
        MapPrototypeSize, SetPrototypeSize, MapPrototypeEntries,
        SetPrototypeValues, ArrayBufferByteLength, SymbolPrototypeToString,
        SymbolToStringTag, call, hex2, classOf, isError, isTypedArray
    } = builtins;

    /*
     * The little of Math this part needs, without Math: the runtime
     * script does not take Math's functions, which would build all of
     * Math in every execution (the numbers here are finite, those given
     * to floor() and round() not negative)
     */
    function smaller(a, b) {
        return a < b ? a : b;
    }

    function larger(a, b) {
        return a > b ? a : b;
    }

    function floor(x) {
        return x - x % 1;
    }

    function round(x) {
        const f = floor(x);
        return x - f >= 0.5 ? f + 1 : f;
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
        const len = smaller(maxArrayLength, length);
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
        const len = smaller(maxArrayLength, length);
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
        const shown = smaller(50, call(ArrayBufferByteLength, value));
        const bytes = new Uint8ArrayCtor(value, 0, shown);
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
            const averageBias = (actualMax
                                 - totalLength / output.length) ** 0.5;
            const biasedMax = larger(actualMax - 3 - averageBias, 1);
            const columns = smaller(
                smaller(round((2.5 * biasedMax * outputLength) ** 0.5
                              / biasedMax),
                        floor((breakLength - ctx.indentationLvl)
                              / actualMax)),
                smaller(compact * 4, 15));

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
                const max = smaller(i + columns, outputLength);
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


    /* [message, stack] of a value the workflow threw */
    function describe(value) {
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
    }

    return { inspect: inspect, format: format, describe: describe };
})
