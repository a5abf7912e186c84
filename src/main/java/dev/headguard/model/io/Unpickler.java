package dev.headguard.model.io;

import dev.headguard.HeadGuardException;
import dev.headguard.model.DType;
import dev.headguard.model.HostTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The pickle machine of {@link TorchCheckpoint}: a stack, a memo, and only the opcodes a state dict
 * uses. It builds only ordered dicts, tuples, lists, numbers, strings, storages and tensors rebuilt
 * from them; every other global, opcode or call is refused before anything is built from it.
 */
final class Unpickler {
    /** The globals a state dict needs; a GLOBAL naming anything else is refused on sight. */
    static final Set<String> ALLOWED = Set.of(
            "collections.OrderedDict",
            "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_parameter",
            "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.DoubleStorage",
            "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage",
            "torch.BoolStorage");

    private static final Map<String, DType> STORAGES = Map.ofEntries(
            Map.entry("torch.FloatStorage", DType.F32), Map.entry("torch.HalfStorage", DType.F16),
            Map.entry("torch.BFloat16Storage", DType.BF16), Map.entry("torch.DoubleStorage", DType.F64),
            Map.entry("torch.LongStorage", DType.I64), Map.entry("torch.IntStorage", DType.I32),
            Map.entry("torch.ShortStorage", DType.I16), Map.entry("torch.CharStorage", DType.I8),
            Map.entry("torch.ByteStorage", DType.U8), Map.entry("torch.BoolStorage", DType.BOOL));

    final Path file;
    final ByteBuffer in;
    final java.util.function.Function<String, byte[]> storages;
    final Deque<Object> stack = new ArrayDeque<>();
    final Map<Long, Object> memo = new HashMap<>();
    final Map<String, Storage> loaded = new HashMap<>();

    Unpickler(Path file, byte[] pickle, java.util.function.Function<String, byte[]> storages) {
        this.file = file;
        this.in = ByteBuffer.wrap(pickle).order(ByteOrder.LITTLE_ENDIAN);
        this.storages = storages;
    }

    HeadGuardException refuse(String what) {
        return new HeadGuardException(file + ": refused " + what + " at byte " + (in.position() - 1)
                + " of data.pkl (a state dict never needs it; nothing was executed)");
    }

    Object run() {
        try {
            while (true) {
                int op = in.get() & 0xff;
                switch (op) {
                    case 0x80 -> { // PROTO
                        int v = in.get() & 0xff;
                        if (v > 5) {
                            throw refuse("pickle protocol " + v);
                        }
                    }
                    case 0x95 -> in.getLong(); // FRAME: a length hint
                    case '.' -> { // STOP
                        return pop();
                    }
                    case 'c' -> push(global(line() + "." + line()));
                    case 0x93 -> { // STACK_GLOBAL
                        String name = string(pop());
                        push(global(string(pop()) + "." + name));
                    }
                    case '(' -> stack.push(MARK);
                    case ')' -> push(List.of());
                    case ']' -> push(new ArrayList<>());
                    case '}' -> push(new Dict());
                    case 'N' -> push(null);
                    case 0x88 -> push(Boolean.TRUE);
                    case 0x89 -> push(Boolean.FALSE);
                    case 'K' -> push((long) (in.get() & 0xff));
                    case 'M' -> push((long) (in.getShort() & 0xffff));
                    case 'J' -> push((long) in.getInt());
                    case 0x8a -> push(long1());
                    case 'G' -> push(bigDouble());
                    case 'X' -> push(utf8(in.getInt()));
                    case 0x8c -> push(utf8(in.get() & 0xff));
                    case 0x8d -> push(utf8(Math.toIntExact(in.getLong())));
                    case 't' -> push(java.util.Collections.unmodifiableList(popToMark()));
                    case 0x85 -> push(tuple(pop()));
                    case 0x86 -> {
                        Object b = pop();
                        push(tuple(pop(), b));
                    }
                    case 0x87 -> {
                        Object c = pop();
                        Object b = pop();
                        push(tuple(pop(), b, c));
                    }
                    case 'q' -> memo.put((long) (in.get() & 0xff), peek());
                    case 'r' -> memo.put(in.getInt() & 0xffffffffL, peek());
                    case 0x94 -> memo.put((long) memo.size(), peek());
                    case 'h' -> push(memo(in.get() & 0xff));
                    case 'j' -> push(memo(in.getInt() & 0xffffffffL));
                    case 's' -> {
                        Object v = pop();
                        Object k = pop();
                        dict(peek()).items.put(k, v);
                    }
                    case 'u' -> {
                        List<Object> kv = popToMark();
                        Dict d = dict(peek());
                        for (int i = 0; i + 1 < kv.size(); i += 2) {
                            d.items.put(kv.get(i), kv.get(i + 1));
                        }
                    }
                    case 'a' -> {
                        Object v = pop();
                        list(peek()).add(v);
                    }
                    case 'e' -> {
                        List<Object> vs = popToMark();
                        list(peek()).addAll(vs);
                    }
                    case 'Q' -> push(persistent(pop()));
                    case 'R' -> {
                        Object args = pop();
                        push(call(pop(), args));
                    }
                    case 'b' -> { // BUILD: an OrderedDict's state (state_dict's _metadata) is dropped, nothing else is built
                        Object state = pop();
                        if (!(peek() instanceof Dict) || !(state instanceof Dict || state == null)) {
                            throw refuse("setting the state of a " + describe(peek()));
                        }
                    }
                    default -> throw refuse("pickle opcode 0x" + Integer.toHexString(op) + opcodeName(op));
                }
            }
        } catch (java.nio.BufferUnderflowException | java.util.NoSuchElementException | ArithmeticException e) {
            throw new HeadGuardException(file + ": data.pkl is truncated or malformed");
        }
    }

    /** A tuple that may hold None (List.of cannot). */
    private static List<Object> tuple(Object... items) {
        return java.util.Collections.unmodifiableList(java.util.Arrays.asList(items));
    }

    private double bigDouble() {
        double d = in.order(ByteOrder.BIG_ENDIAN).getDouble();
        in.order(ByteOrder.LITTLE_ENDIAN);
        return d;
    }

    Object global(String name) {
        if (!ALLOWED.contains(name)) {
            throw refuse("global '" + HeadGuardException.brief(name) + "'");
        }
        return new Global(name);
    }

    Object call(Object f, Object args) {
        if (!(f instanceof Global g)) {
            throw refuse("a call of a " + describe(f));
        }
        List<?> a = args instanceof List<?> l ? l : List.of();
        return switch (g.name) {
            case "collections.OrderedDict" -> {
                if (!a.isEmpty()) {
                    throw refuse("OrderedDict with arguments");
                }
                yield new Dict();
            }
            case "torch._utils._rebuild_tensor_v2" -> tensor(a);
            case "torch._utils._rebuild_parameter" -> {
                if (a.isEmpty() || !(a.get(0) instanceof HostTensor t)) {
                    throw refuse("_rebuild_parameter without a tensor");
                }
                yield t;
            }
            default -> throw refuse("a call of '" + g.name + "'");
        };
    }

    /** _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks): the strided view, copied out. */
    HostTensor tensor(List<?> a) {
        if (a.size() < 4 || !(a.get(0) instanceof Storage s) || !(a.get(1) instanceof Long offset)
                || !(a.get(2) instanceof List<?> size) || !(a.get(3) instanceof List<?> stride) || size.size() != stride.size()) {
            throw refuse("_rebuild_tensor_v2 with unexpected arguments");
        }
        int n = size.size();
        long[] shape = new long[n];
        long[] st = new long[n];
        long count = 1;
        long last = offset;
        for (int i = 0; i < n; i++) {
            if (!(size.get(i) instanceof Long si) || !(stride.get(i) instanceof Long sti)) {
                throw refuse("_rebuild_tensor_v2 with a size or stride that is not an integer");
            }
            shape[i] = si;
            st[i] = sti;
            if (shape[i] < 0 || st[i] < 0) {
                throw new HeadGuardException(file + ": a tensor of storage " + s.key + " has a negative size or stride");
            }
            count = Math.multiplyExact(count, shape[i]);
            last += shape[i] == 0 ? 0 : (shape[i] - 1) * st[i];
        }
        long elements = s.bytes.length / s.dtype.size;
        if (count > 0 && (offset < 0 || last >= elements)) {
            throw new HeadGuardException(file + ": a tensor of storage " + s.key + " reaches element " + last
                    + " but the storage holds " + elements);
        }
        int size1 = s.dtype.size;
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(count * size1)).order(ByteOrder.LITTLE_ENDIAN);
        long[] index = new long[n];
        for (long k = 0; k < count; k++) {
            long at = offset;
            for (int i = 0; i < n; i++) {
                at += index[i] * st[i];
            }
            out.put(s.bytes, (int) (at * size1), size1);
            for (int i = n - 1; i >= 0 && ++index[i] == shape[i]; i--) {
                index[i] = 0;
            }
        }
        out.flip();
        return new HostTensor(s.dtype, shape, out);
    }

    /** ('storage', StorageType, key, location, numel): the storage's bytes from data/KEY. */
    Object persistent(Object pid) {
        if (!(pid instanceof List<?> t) || t.size() != 5 || !"storage".equals(t.get(0)) || !(t.get(1) instanceof Global type)
                || !(t.get(2) instanceof String key) || !(t.get(4) instanceof Long numel)) {
            throw refuse("a persistent id that is not a storage");
        }
        DType d = STORAGES.get(type.name);
        if (d == null) {
            throw refuse("persistent storage of '" + type.name + "'");
        }
        Storage s = loaded.get(key);
        if (s == null) {
            byte[] bytes = storages.apply(key);
            if (bytes.length < numel * d.size) {
                throw new HeadGuardException(file + ": storage " + key + " declares " + numel + " elements (" + numel * d.size
                        + " bytes) but holds " + bytes.length + " bytes");
            }
            s = new Storage(d, bytes, key);
            loaded.put(key, s);
        }
        return s;
    }

    String line() {
        StringBuilder b = new StringBuilder();
        for (int c; (c = in.get()) != '\n'; ) {
            b.append((char) c);
            if (b.length() > 200) {
                throw refuse("an over-long global name");
            }
        }
        return b.toString();
    }

    String utf8(int n) {
        if (n < 0 || n > in.remaining()) {
            throw new HeadGuardException(file + ": data.pkl is truncated or malformed");
        }
        byte[] b = new byte[n];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    long long1() {
        int n = in.get() & 0xff;
        if (n > 8) {
            throw refuse("an integer of " + n + " bytes");
        }
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (in.get() & 0xffL) << (8 * i);
        }
        return n > 0 && n < 8 && (v >> (8 * n - 1) & 1) == 1 ? v - (1L << (8 * n)) : v;
    }

    Object memo(long k) {
        if (!memo.containsKey(k)) {
            throw new HeadGuardException(file + ": data.pkl is truncated or malformed (memo " + k + ")");
        }
        return memo.get(k);
    }

    void push(Object o) {
        stack.push(o == null ? NONE : o);
    }

    Object pop() {
        Object o = stack.pop();
        if (o == MARK) {
            throw new HeadGuardException(file + ": data.pkl is truncated or malformed (a mark where a value belongs)");
        }
        return o == NONE ? null : o;
    }

    Object peek() {
        Object o = stack.peek();
        if (o == null || o == MARK) {
            throw new HeadGuardException(file + ": data.pkl is truncated or malformed");
        }
        return o == NONE ? null : o;
    }

    List<Object> popToMark() {
        List<Object> out = new ArrayList<>();
        while (true) {
            Object o = stack.pop();
            if (o == MARK) {
                break;
            }
            out.add(0, o == NONE ? null : o);
        }
        return out;
    }

    Dict dict(Object o) {
        if (o instanceof Dict d) {
            return d;
        }
        throw refuse("setting items of a " + describe(o));
    }

    @SuppressWarnings("unchecked")
    List<Object> list(Object o) {
        if (o instanceof ArrayList<?> l) {
            return (List<Object>) l;
        }
        throw refuse("appending to a " + describe(o));
    }

    String string(Object o) {
        if (o instanceof String s) {
            return s;
        }
        throw refuse("a global named by a " + describe(o));
    }

    static String describe(Object o) {
        return o == null ? "None" : o instanceof Global g ? "reference to " + g.name : o.getClass().getSimpleName();
    }

    /** A dict built by the pickle (OrderedDict or plain). */
    static final class Dict {
        final LinkedHashMap<Object, Object> items = new LinkedHashMap<>();
    }

    /** An allowed global, before it is called. */
    private record Global(String name) {}

    /** A storage reached through a persistent id: its type and bytes. */
    private record Storage(DType dtype, byte[] bytes, String key) {}

    private static final Object MARK = new Object();

    /** The stack cannot hold null (ArrayDeque); None travels as this. */
    private static final Object NONE = new Object();

    private static String opcodeName(int op) {
        return switch (op) {
            case 'i' -> " (INST: builds an object of any class)";
            case 'o' -> " (OBJ: builds an object of any class)";
            case 0x81 -> " (NEWOBJ: builds an object of any class)";
            case 0x92 -> " (NEWOBJ_EX: builds an object of any class)";
            case 'P' -> " (PERSID)";
            case 0x82, 0x83, 0x84 -> " (EXT: a registered global)";
            case 'B', 'C', 0x8e, 0x96 -> " (bytes)";
            default -> "";
        };
    }
}
