// pgJDBC with prepareThreshold=1: reused PreparedStatements, getMetaData() before execution, checked results.
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

// The workload is the one of workload.py (see README.md); its constants must agree with it.
public final class JdbcPrepared {
  static final String NAME = "pgjdbc";
  static final int PRELOADED = 1000;
  static final long INSERT_BASE = 1_000_000L;
  static final long PER_CLIENT = 10_000L;

  static final class Mismatch extends Exception {
    private static final long serialVersionUID = 1L;
    Mismatch(String message) { super(message); }
  }

  static void expect(Object got, Object want, String where) throws Mismatch {
    if (!Objects.equals(got, want)) throw new Mismatch(where + ": expected " + want + ", got " + got);
  }

  static int key(int c, int i) { return (c * 37 + i * 11) % PRELOADED + 1; }

  public static void main(String[] argv) throws Exception {
    if (argv.length < 7 || argv.length > 8) {
      System.err.println("usage: JdbcPrepared HOST PORT USER DB TABLE CLIENTS ITERATIONS [TIMEOUT_SECONDS]");
      System.exit(2);
    }
    String table = argv[4];
    int clients = Integer.parseInt(argv[5]);
    int iterations = Integer.parseInt(argv[6]);
    long timeoutMs = (long) (1000 * (argv.length == 8 ? Double.parseDouble(argv[7]) : 100.0));
    String url = "jdbc:postgresql://" + argv[0] + ":" + argv[1] + "/" + argv[3] + "?user=" + argv[2]
        + "&prepareThreshold=1&connectTimeout=30&socketTimeout=60";

    // A lost reply would hang a driver forever; the run gives up with a clear line instead.
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep(timeoutMs);
      } catch (InterruptedException e) {
        return;
      }
      System.out.println("FAIL: " + NAME + " did not finish within " + timeoutMs / 1000.0 + " s");
      System.out.flush();
      Runtime.getRuntime().halt(3);
    });
    watchdog.setDaemon(true);
    watchdog.start();

    AtomicLong checks = new AtomicLong(), transactions = new AtomicLong();
    AtomicInteger moved = new AtomicInteger();  // clients whose statements ran on more than one server
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<Throwable> error = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; ++c) {
      final int client = c;
      Thread t = new Thread(() -> {
        try {
          if (runClient(url, table, client, iterations, stop, checks, transactions) > 1) moved.incrementAndGet();
        } catch (Throwable e) {
          error.compareAndSet(null, e);
          stop.set(true);
        }
      }, "client-" + c);
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) t.join();
    if (error.get() != null) {
      Throwable e = error.get();
      System.out.println("FAIL: " + NAME + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
      System.exit(1);
    }
    System.out.println(NAME + ": verified " + checks.get() + " checks in " + transactions.get() + " transactions; "
                       + moved.get() + " of " + clients + " clients moved between servers");
    System.exit(0);
  }

  // Returns how many server backends (by PID) the client's statements ran on.
  static int runClient(String url, String t, int c, int iterations, AtomicBoolean stop, AtomicLong checks,
                       AtomicLong transactions) throws SQLException, Mismatch {
    Set<Integer> pids = new HashSet<>();
    long lo = INSERT_BASE + c * PER_CLIENT, hi = lo + PER_CLIENT;
    try (Connection conn = DriverManager.getConnection(url);
         PreparedStatement select = conn.prepareStatement("SELECT val, n FROM " + t + " WHERE id = ?");
         PreparedStatement update = conn.prepareStatement("UPDATE " + t + " SET hits = hits + 1 WHERE id = ?");
         PreparedStatement insert = conn.prepareStatement("INSERT INTO " + t + " (id, val, n) VALUES (?, ?, ?)");
         PreparedStatement sum = conn.prepareStatement(
             "SELECT count(*), sum(n)::bigint FROM " + t + " WHERE id >= ? AND id < ?");
         PreparedStatement echo = conn.prepareStatement("SELECT ?::int * 2, ?::text, pg_backend_pid()")) {
      // client % 3 statements with client-specific text first, so that pgJDBC's S_<n> names mean
      // different statements on different clients (workload.py's warmups() says why).
      for (int j = 0; j < c % 3; ++j) {
        int added = c * 10 + j;
        try (PreparedStatement warm = conn.prepareStatement("SELECT ?::int + " + added)) {
          warm.setInt(1, c);
          try (ResultSet rs = warm.executeQuery()) {
            expect(rs.next(), true, "client " + c + ": warm-up row");
            expect(rs.getInt(1), c + added, "client " + c + ": warm-up " + j);
          }
        }
        checks.incrementAndGet();
      }
      // Describe before any execution: what ORMs do to learn a statement's shape.
      ResultSetMetaData md = select.getMetaData();
      expect(List.of(md.getColumnCount(), md.getColumnName(1), md.getColumnType(1), md.getColumnName(2),
                     md.getColumnType(2)),
             List.of(2, "val", Types.VARCHAR, "n", Types.BIGINT), "client " + c + ": getMetaData");
      ParameterMetaData pmd = select.getParameterMetaData();
      expect(List.of(pmd.getParameterCount(), pmd.getParameterType(1)), List.of(1, Types.INTEGER),
             "client " + c + ": getParameterMetaData");
      checks.addAndGet(2);
      for (int i = 0; i < iterations && !stop.get(); ++i) {
        String where = "client " + c + " iteration " + i;
        int k = key(c, i);
        conn.setAutoCommit(false);
        select.setInt(1, k);
        try (ResultSet rs = select.executeQuery()) {
          List<Object> rows = new ArrayList<>();
          while (rs.next()) rows.add(List.of(rs.getString(1), rs.getLong(2)));
          expect(rows, List.of(List.of("v" + k, 7L * k)), where + ": SELECT");
        }
        update.setInt(1, k);
        expect(update.executeUpdate(), 1, where + ": UPDATE count");
        insert.setLong(1, lo + i);
        insert.setString(2, "c" + c + "-i" + i);
        insert.setLong(3, c * 1000L + i);
        expect(insert.executeUpdate(), 1, where + ": INSERT count");
        sum.setLong(1, lo);
        sum.setLong(2, hi);
        try (ResultSet rs = sum.executeQuery()) {
          expect(rs.next(), true, where + ": count/sum row");
          long rows = i + 1;
          expect(List.of(rs.getLong(1), rs.getLong(2)), List.of(rows, rows * c * 1000L + (long) i * (i + 1) / 2),
                 where + ": count/sum of own rows");
        }
        conn.commit();
        // Autocommit between transactions: the next statement may land on any server.
        conn.setAutoCommit(true);
        echo.setInt(1, i);
        echo.setString(2, "x" + c);
        try (ResultSet rs = echo.executeQuery()) {
          expect(rs.next(), true, where + ": echo row");
          expect(List.of(rs.getInt(1), rs.getString(2)), List.of(2 * i, "x" + c), where + ": autocommit echo");
          pids.add(rs.getInt(3));
        }
        checks.addAndGet(5);
        transactions.incrementAndGet();
      }
    }
    return pids.size();
  }
}
